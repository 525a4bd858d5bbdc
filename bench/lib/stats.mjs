// Small statistics over samples (milliseconds, bytes, ...).

export function percentile(samples, p) {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export const median = (samples) => percentile(samples, 50);

/** Nearest-rank percentiles of a list of latencies. */
export function latencySummary(samples) {
  return { n: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99), max: percentile(samples, 100) };
}
