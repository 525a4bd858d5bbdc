// A one-shot worker that transpiles one component with @bytecodealliance/jco-transpile and posts
// the generated files back. jco-transpile takes ~130 MB once imported; in a worker of its own that
// memory goes away with the worker instead of staying in the server (component-prepare.ts).

import { parentPort, workerData } from "node:worker_threads";
import { transpileBytes } from "@bytecodealliance/jco-transpile";

export interface TranspileRequest {
  bytes: Uint8Array;
  options: Parameters<typeof transpileBytes>[1];
}

export type TranspileAnswer = { ok: true; files: Record<string, Uint8Array>; ms: number } | { ok: false; error: string };

const { bytes, options } = workerData as TranspileRequest;
const started = performance.now();
let answer: TranspileAnswer;
try {
  const out = await transpileBytes(bytes, options);
  answer = { ok: true, files: out.files, ms: Math.round(performance.now() - started) };
} catch (err) {
  answer = { ok: false, error: err instanceof Error ? err.message : String(err) };
}
// Files may share a buffer; each is transferred once.
const transfer = answer.ok ? [...new Set(Object.values(answer.files).map((f) => f.buffer as ArrayBuffer))] : [];
parentPort!.postMessage(answer, transfer);
