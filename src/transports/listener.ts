/** A running transport entry (stdio, a TCP or HTTP listener), as `serve` stops it. */
export interface Listener {
  /** Stops taking new work, lets in-flight calls answer, then closes. */
  close(): Promise<void>;
}
