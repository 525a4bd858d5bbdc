// A replica's part in a cluster ([cluster] redis_url): the managed modules kept in Redis
// (store.ts), change events shared between replicas (bus.ts), and what /readyz says about both.

import type { ServerEventBus } from "@modelcontextprotocol/server";
import type { Config } from "../config/load.js";
import { log } from "../core/log.js";
import type { ToolHost } from "../server/host.js";
import { redisEventBus } from "./bus.js";
import { connect, redactedUrl } from "./redis.js";
import { clusterStore, type ClusterStore } from "./store.js";

export interface Cluster {
  store: ClusterStore;
  bus: ServerEventBus;
  connected(): boolean;
  /** For /readyz: caught up with Redis (ready), and a line saying how it stands. */
  status(): { ready: boolean; detail: string };
  /** From now on, changes from Redis reload this host. */
  attach(host: ToolHost): void;
  close(): Promise<void>;
}

/** How long a starting replica waits for Redis before it serves what it has (and reports not ready). */
const START_WAIT_MS = 5000;

/**
 * Connects, and applies the managed set Redis holds to this replica's managed file before the
 * host loads it (waiting at most START_WAIT_MS for Redis), so a replica starts serving the
 * cluster's modules rather than stale ones.
 */
export async function joinCluster(config: Config, url: string): Promise<Cluster> {
  const { namespace } = config.cluster;
  const redis = connect(url);
  const store = clusterStore(redis, namespace);
  const bus = redisEventBus(redis, namespace);
  const where = redactedUrl(url);
  if (await redis.whenReady(START_WAIT_MS)) {
    if (await store.catchUp(config)) log.info(`cluster: joined through Redis at ${where} (namespace "${namespace}", managed version ${store.version()})`);
  } else {
    log.warn(`cluster: Redis at ${where} is not reachable yet (${redis.lastError()}); serving the managed modules this replica has, not ready until it catches up`);
  }
  return {
    store,
    bus,
    connected: redis.ready,
    status() {
      const caughtUp = store.caughtUp();
      if (!redis.ready()) {
        return { ready: caughtUp, detail: `${redis.lastError() ?? "Redis is not connected"}; ${caughtUp ? `serving managed version ${store.version()}, admin changes refused` : "not caught up yet"}` };
      }
      return { ready: caughtUp, detail: caughtUp ? `caught up (managed version ${store.version()})` : "catching up with Redis" };
    },
    attach: (host) => store.attach(host),
    async close() {
      bus.close();
      await redis.close();
    },
  };
}
