// Prometheus metrics for `GET /metrics` (prom-client's text format): what a team running
// WasmForge for many assistants watches. Counted per process; a scraper sums over replicas.
// Only `serve --http` makes these: stdio and TCP serve no /metrics, and pay nothing.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ToolHost } from "./host.js";

export interface Metrics {
  registry: Registry;
  close(): void;
}

export interface MetricsSources {
  host: ToolHost;
  /** Labels every series with this replica's id, when it has one. */
  replicaId?: string;
  /** Whether the replica is connected to the cluster's Redis (absent: no [cluster]). */
  clusterConnected?: () => boolean;
  /** 2025 sessions open now, and streams: 2025 GET streams and 2026 subscriptions/listen. */
  connections: () => { sessions: number; getStreams: number; listenStreams: number };
}

export function serverMetrics({ host, replicaId, clusterConnected, connections }: MetricsSources): Metrics {
  const registry = new Registry();
  if (replicaId) registry.setDefaultLabels({ replica: replicaId });
  collectDefaultMetrics({ register: registry, prefix: "wasmforge_" });

  const calls = new Counter({ name: "wasmforge_tool_calls_total", help: "tools/call requests by tool and outcome", labelNames: ["tool", "outcome"], registers: [registry] });
  const duration = new Histogram({
    name: "wasmforge_tool_call_duration_seconds",
    help: "tools/call duration, from the request reaching the host to its result",
    labelNames: ["tool"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const inFlight = new Gauge({ name: "wasmforge_tool_calls_in_flight", help: "tools/call requests running now", registers: [registry] });
  const stopCalls = host.onCall((event) => {
    if (event.phase === "start") return inFlight.inc();
    inFlight.dec();
    calls.inc({ tool: event.tool, outcome: event.outcome });
    duration.observe({ tool: event.tool }, event.seconds);
  });

  new Gauge({
    name: "wasmforge_modules_loaded",
    help: "modules being served now",
    registers: [registry],
    collect() {
      this.set(host.current.modules.length);
    },
  });
  new Gauge({
    name: "wasmforge_module_load_failures",
    help: "enabled modules that failed to load (or whose tools clash) in the set served now",
    registers: [registry],
    collect() {
      this.set(host.current.failures.length);
    },
  });
  new Gauge({
    name: "wasmforge_tools",
    help: "tools being served now",
    registers: [registry],
    collect() {
      this.set(host.current.tools.size);
    },
  });
  new Counter({
    name: "wasmforge_reloads_total",
    help: "reloads (config or module files changed, an admin change, a cluster change), by result",
    labelNames: ["result"],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ result: "ok" }, host.reloadCounts.ok);
      this.inc({ result: "failed" }, host.reloadCounts.failed);
    },
  });
  new Counter({
    name: "wasmforge_worker_restarts_total",
    help: "worker threads replaced after a call was stopped (deadline, cancellation) or crashed one",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(host.runner.pool.restarts);
    },
  });
  new Counter({
    name: "wasmforge_preemptions_total",
    help: "metered calls stopped on the protocol thread at the end of their time slice and run again in a worker",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(host.runner.preemptions);
    },
  });
  if (clusterConnected) {
    new Gauge({
      name: "wasmforge_cluster_connected",
      help: "1 while this replica is connected to the cluster's Redis",
      registers: [registry],
      collect() {
        this.set(clusterConnected() ? 1 : 0);
      },
    });
  }
  new Gauge({
    name: "wasmforge_sessions_open",
    help: "2025-era HTTP sessions open now",
    registers: [registry],
    collect() {
      this.set(connections().sessions);
    },
  });
  new Gauge({
    name: "wasmforge_streams_open",
    help: "HTTP streams open now: 2025 GET streams (kind=get) and 2026-07-28 subscriptions/listen (kind=listen)",
    labelNames: ["kind"],
    registers: [registry],
    collect() {
      const open = connections();
      this.set({ kind: "get" }, open.getStreams);
      this.set({ kind: "listen" }, open.listenStreams);
    },
  });

  return {
    registry,
    close() {
      stopCalls();
      registry.clear();
    },
  };
}
