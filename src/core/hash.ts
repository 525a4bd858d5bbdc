import { createHash } from "node:crypto";

/** The SHA-256 of some bytes, as 64 lowercase hex digits: how WasmForge names and pins module bytes. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}
