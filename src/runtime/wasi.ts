// A deny-by-default WASI preview1 for raw modules: no files, no environment, no arguments, no
// network. Clocks and randomness work; whatever the module writes to stdout/stderr is captured
// (bounded) for the log, never written to the process's stdout, which carries the protocol.

import { getRandomValues } from "node:crypto";
import { ToolError } from "./failure.js";

const ERRNO_SUCCESS = 0;
const ERRNO_BADF = 8;
const ERRNO_NOSYS = 52;

export const WASI_NAMESPACE = "wasi_snapshot_preview1";
/** What a module may print per call before the rest is cut (its output goes to the log). */
export const CAPTURE_LIMIT = 8 * 1024;


export interface WasiShim {
  imports: Record<string, (...args: never[]) => unknown>;
  bind(memory: WebAssembly.Memory): void;
  /** Text written to stdout/stderr since the last call, then cleared. */
  takeOutput(): string;
}

export function createWasiShim(importNames: string[]): WasiShim {
  let memory: WebAssembly.Memory | undefined;
  let captured = "";
  let capturedBytes = 0;
  let truncated = false;
  const view = () => {
    if (!memory) throw new Error("WASI call before the module's memory was bound");
    return new DataView(memory.buffer);
  };
  // One streaming decoder: a character split across two writes is decoded whole.
  let decoder = new TextDecoder();

  const implemented: Record<string, (...args: never[]) => number> = {
    fd_write(fd: number, iovs: number, iovsLen: number, nwrittenPtr: number) {
      if (fd !== 1 && fd !== 2) return ERRNO_BADF;
      const dv = view();
      let written = 0;
      for (let i = 0; i < iovsLen; i++) {
        const ptr = dv.getUint32(iovs + i * 8, true);
        const len = dv.getUint32(iovs + i * 8 + 4, true);
        const kept = Math.min(len, CAPTURE_LIMIT - capturedBytes);
        if (kept > 0) {
          captured += decoder.decode(new Uint8Array(dv.buffer, ptr, kept), { stream: true });
          capturedBytes += kept;
        }
        if (kept < len) truncated = true;
        written += len;
      }
      dv.setUint32(nwrittenPtr, written, true);
      return ERRNO_SUCCESS;
    },
    clock_time_get(id: number, _precision: bigint, timePtr: number) {
      const now = id === 0 ? BigInt(Date.now()) * 1_000_000n : process.hrtime.bigint();
      view().setBigUint64(timePtr, now, true);
      return ERRNO_SUCCESS;
    },
    clock_res_get(_id: number, resPtr: number) {
      view().setBigUint64(resPtr, 1000n, true);
      return ERRNO_SUCCESS;
    },
    random_get(buf: number, len: number) {
      const bytes = new Uint8Array(view().buffer, buf, len);
      for (let i = 0; i < len; i += 65536) getRandomValues(bytes.subarray(i, Math.min(len, i + 65536)));
      return ERRNO_SUCCESS;
    },
    args_sizes_get: (countPtr: number, sizePtr: number) => zeroPair(view(), countPtr, sizePtr),
    environ_sizes_get: (countPtr: number, sizePtr: number) => zeroPair(view(), countPtr, sizePtr),
    args_get: () => ERRNO_SUCCESS,
    environ_get: () => ERRNO_SUCCESS,
    fd_fdstat_get(fd: number, statPtr: number) {
      if (fd > 2) return ERRNO_BADF;
      const dv = view();
      dv.setUint8(statPtr, 2); // character device
      dv.setUint16(statPtr + 2, 0, true);
      dv.setBigUint64(statPtr + 8, 0xffffn, true);
      dv.setBigUint64(statPtr + 16, 0n, true);
      return ERRNO_SUCCESS;
    },
    fd_prestat_get: () => ERRNO_BADF, // no preopened directories: the module sees no filesystem
    fd_close: (fd: number) => (fd <= 2 ? ERRNO_SUCCESS : ERRNO_BADF),
    fd_seek: () => ERRNO_BADF,
    fd_read: () => ERRNO_BADF,
    sched_yield: () => ERRNO_SUCCESS,
    proc_exit(code: number): never {
      throw new ToolError("module", `the module called proc_exit(${code})`);
    },
  };

  const imports: WasiShim["imports"] = {};
  for (const name of importNames) imports[name] = implemented[name] ?? (() => (name.startsWith("fd_") ? ERRNO_BADF : ERRNO_NOSYS));
  return {
    imports,
    bind(m) {
      memory = m;
    },
    takeOutput() {
      const text = captured + decoder.decode();
      const out = truncated ? `${text}… (output truncated at ${CAPTURE_LIMIT} bytes)` : text;
      captured = "";
      capturedBytes = 0;
      truncated = false;
      decoder = new TextDecoder();
      return out;
    },
  };
}

function zeroPair(dv: DataView, a: number, b: number): number {
  dv.setUint32(a, 0, true);
  dv.setUint32(b, 0, true);
  return ERRNO_SUCCESS;
}
