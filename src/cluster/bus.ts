// The v2 SDK's ServerEventBus over Redis pub/sub: a change one replica publishes reaches the
// `subscriptions/listen` streams held on every replica. Local listeners hear it at once (so a
// replica's own clients are told even while Redis is away); the others through <ns>:events, which
// each replica hears too and skips when the message is its own.
//
// Each replica publishes after it applied a change itself, so a listen stream hears one
// list_changed per replica: the last one comes after every replica serves the change, and a
// client that lists again then sees it whichever replica answers.

import { randomUUID } from "node:crypto";
import type { ServerEvent, ServerEventBus } from "@modelcontextprotocol/server";
import { writeLog } from "../core/log.js";
import type { Connections } from "./redis.js";

export function redisEventBus(redis: Connections, namespace: string): ServerEventBus & { close(): void } {
  const channel = `${namespace}:events`;
  const origin = randomUUID();
  const listeners = new Set<(event: ServerEvent) => void>();

  const deliver = (event: ServerEvent) => {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (err) {
        writeLog("debug", `cluster: a listen stream's listener failed: ${(err as Error).message}`);
      }
    }
  };

  const onMessage = (message: string) => {
    let parsed: { origin?: unknown; event?: unknown };
    try {
      parsed = JSON.parse(message) as typeof parsed;
    } catch {
      return writeLog("debug", `cluster: ignored a message on ${channel} that is not JSON`);
    }
    if (parsed.origin === origin || !isServerEvent(parsed.event)) return;
    deliver(parsed.event);
  };
  void redis.subscriber.subscribe(channel, onMessage).catch(() => undefined);

  return {
    publish(event) {
      deliver(event);
      if (!redis.ready()) return;
      redis.commands.publish(channel, JSON.stringify({ origin, event })).catch((err: Error) => writeLog("debug", `cluster: event not shared: ${err.message}`));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    close() {
      listeners.clear();
      void redis.subscriber.unsubscribe(channel).catch(() => undefined);
    },
  };
}

const KINDS = new Set(["tools_list_changed", "prompts_list_changed", "resources_list_changed", "resource_updated"]);

/** Only the events the SDK knows travel: another replica's message is data, checked like any. */
function isServerEvent(value: unknown): value is ServerEvent {
  if (typeof value !== "object" || value === null) return false;
  const { kind, uri, params } = value as { kind?: unknown; uri?: unknown; params?: unknown };
  if (typeof kind !== "string" || !KINDS.has(kind)) return false;
  if (params !== undefined && (typeof params !== "object" || params === null || Array.isArray(params))) return false;
  return kind !== "resource_updated" || typeof uri === "string";
}
