// A growable byte buffer for rewriting large modules without building arrays of numbers.

export class ByteWriter {
  buf: Uint8Array;
  length = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + extra));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    if (this.length === this.buf.length) this.reserve(1);
    this.buf[this.length++] = b;
  }

  /** Unsigned LEB128. */
  u32(value: number): void {
    this.reserve(5);
    do {
      let b = value & 0x7f;
      value >>>= 7;
      if (value !== 0) b |= 0x80;
      this.buf[this.length++] = b;
    } while (value !== 0);
  }

  /** Signed LEB128 of a 32-bit integer. */
  s32(value: number): void {
    this.reserve(5);
    value |= 0;
    for (;;) {
      const b = value & 0x7f;
      value >>= 7;
      if ((value === 0 && (b & 0x40) === 0) || (value === -1 && (b & 0x40) !== 0)) {
        this.buf[this.length++] = b;
        return;
      }
      this.buf[this.length++] = b | 0x80;
    }
  }

  /** Copies src[start, end). Short runs are copied by hand: a subarray per run would cost more. */
  copy(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    if (this.length + n > this.buf.length) this.reserve(n);
    if (n < 32) {
      const buf = this.buf;
      let at = this.length;
      for (let i = start; i < end; i++) buf[at++] = src[i]!;
    } else {
      this.buf.set(src.subarray(start, end), this.length);
    }
    this.length += n;
  }

  append(src: readonly number[]): void {
    const n = src.length;
    if (this.length + n > this.buf.length) this.reserve(n);
    const buf = this.buf;
    let at = this.length;
    for (let i = 0; i < n; i++) buf[at++] = src[i]!;
    this.length = at;
  }

  /** The bytes written so far (a view; copy it before writing more if it must outlive the writer). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
