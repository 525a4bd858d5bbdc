// Drives tools/call load through an MCP Client: `inFlight` callers share the calls, until `count` calls
// were made or `durationMs` has passed, whichever comes first.

import { performance } from "node:perf_hooks";

/**
 * Makes calls of `calls` (an array of {name, arguments} used round-robin) with `inFlight` outstanding
 * at a time. Returns per-call latencies (ms), wall time and failed calls. A batch bounded by time
 * takes as long on a fast server as on a slow one, so a busy machine stretches no run.
 */
export async function runCalls(client, calls, { count = Infinity, durationMs, inFlight = 1, onProgress } = {}) {
  if (count === Infinity && durationMs === undefined) throw new Error("runCalls: give count or durationMs");
  const latencies = [];
  let next = 0;
  let failures = 0;
  let firstError;
  const started = performance.now();
  const deadline = durationMs === undefined ? Infinity : started + durationMs;
  const caller = async () => {
    for (;;) {
      const i = next++;
      if (i >= count || performance.now() >= deadline) return;
      const request = calls[i % calls.length];
      const callStarted = performance.now();
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
      latencies[i] = performance.now() - callStarted;
      onProgress?.(i + 1);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, caller));
  return { latencies: latencies.filter((l) => l !== undefined), elapsedMs: performance.now() - started, failures, firstError };
}
