// The two Redis connections a replica keeps: one for commands, one subscribed to the change and
// event channels (a subscribed connection can do nothing else). Both reconnect on their own, with
// backoff, for as long as the process lives; commands fail at once while Redis is away (no
// offline queue), so an admin change is refused rather than left waiting half-done.

import { createClient, RESP_TYPES } from "@redis/client";
import { log, writeLog } from "../core/log.js";

const MAX_BACKOFF_MS = 2000;

function client(url: string) {
  return createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 5000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, MAX_BACKOFF_MS) },
  });
}

export type Redis = ReturnType<typeof client>;

export interface Connections {
  commands: Redis;
  /** Reads values as bytes (module files) instead of text. */
  bytes: ReturnType<Redis["withTypeMapping"]>;
  subscriber: Redis;
  /** Whether commands can be sent now. */
  ready(): boolean;
  /** Why not, when not: the last connection error. */
  lastError(): string | undefined;
  /** Resolves true once commands can be sent, or false after `ms`. */
  whenReady(ms: number): Promise<boolean>;
  /** Runs whenever the subscriber (re)connects: changes published while it was away were missed. */
  onReconnect(listener: () => void): void;
  close(): Promise<void>;
}

export function connect(url: string): Connections {
  const commands = client(url);
  const subscriber = commands.duplicate();
  const where = redactedUrl(url);
  let lastError: string | undefined;
  let down = false;
  const reconnectListeners: (() => void)[] = [];

  // node-redis emits every failed attempt; the log says once that Redis went away, and once that it is back.
  commands.on("error", (err: Error) => {
    lastError = `Redis at ${where}: ${err.message || err.name}`;
    if (!down) log.warn(`cluster: lost ${lastError}; serving what this replica has, admin changes refused until it is back`);
    else writeLog("debug", `cluster: ${lastError}`);
    down = true;
  });
  commands.on("ready", () => {
    if (down) log.info(`cluster: Redis at ${where} is back`);
    down = false;
    lastError = undefined;
  });
  subscriber.on("error", (err: Error) => writeLog("debug", `cluster: subscriber: ${err.message || err.name}`));
  subscriber.on("ready", () => {
    for (const listener of reconnectListeners) listener();
  });
  // connect() retries until it succeeds (or close); the events above say how it goes.
  commands.connect().catch(() => undefined);
  subscriber.connect().catch(() => undefined);

  return {
    commands,
    bytes: commands.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }),
    subscriber,
    ready: () => commands.isReady,
    whenReady: (ms) =>
      commands.isReady
        ? Promise.resolve(true)
        : new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => {
              commands.off("ready", onReady);
              resolve(false);
            }, ms);
            const onReady = () => {
              clearTimeout(timer);
              resolve(true);
            };
            commands.once("ready", onReady);
          }),
    lastError: () => lastError ?? (commands.isReady ? undefined : `Redis at ${where} is not connected yet`),
    onReconnect: (listener) => void reconnectListeners.push(listener),
    async close() {
      await Promise.all([commands, subscriber].map((c) => (c.isReady ? c.close() : Promise.resolve(c.destroy())).catch(() => undefined)));
    },
  };
}

/** The URL without its password, for logs. */
export function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.host + (parsed.pathname.length > 1 ? parsed.pathname : "");
}
