// Drives tools/call load through an SDK Client: `inFlight` callers share `count` calls.

import { performance } from "node:perf_hooks";

/**
 * Makes `count` calls of `call` (an array of {name, arguments} used round-robin) with `inFlight`
 * outstanding at a time. Returns per-call latencies (ms), wall time and failed calls.
 */
export async function runCalls(client, calls, { count, inFlight = 1, onProgress } = {}) {
  const latencies = new Array(count);
  let next = 0;
  let failures = 0;
  let firstError;
  const caller = async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      const request = calls[i % calls.length];
      const started = performance.now();
      try {
        const result = await client.callTool(request);
        if (result.isError) {
          failures++;
          firstError ??= `${request.name}: ${JSON.stringify(result.content)}`;
        }
      } catch (err) {
        failures++;
        firstError ??= `${request.name}: ${err.message}`;
      }
      latencies[i] = performance.now() - started;
      onProgress?.(i + 1);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, caller));
  return { latencies, elapsedMs: performance.now() - started, failures, firstError };
}
