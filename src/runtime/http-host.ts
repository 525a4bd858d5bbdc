// The Extism HTTP host functions (http_request, http_status_code, http_headers) for plugins, inside a
// call worker. @extism/extism 1.0.3 only offers them in its own background mode, which cannot be
// stopped at a deadline; here the call worker blocks on a shared flag while a helper thread fetches,
// so a deadline still ends everything by ending the worker. Only hosts in `allowed_hosts` are reached.

import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import type { CallContext } from "@extism/extism";
import { ToolError } from "./failure.js";

/** What a plugin asked for, checked, as sent to the helper thread. */
export interface HttpAsk {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  allowedHosts: string[];
  maxBytes: number;
  timeoutMs: number;
}

export type HttpAnswer =
  | { ok: true; status: number; headers: Record<string, string>; body: Uint8Array }
  | { ok: false; error: string };

/** `allowed_hosts` entries are host names, or globs such as `*.example.com` (`*` alone allows every host). */
export function isAllowedHost(hostname: string, allowedHosts: string[]): boolean {
  return allowedHosts.some((pattern) => {
    if (pattern.toLowerCase() === hostname.toLowerCase()) return true;
    const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
    return regex.test(hostname);
  });
}

export function refusal(url: URL): string {
  return `HTTP request to ${url.origin} is not allowed: add "${url.hostname}" to the module's allowed_hosts`;
}

const HELPER_URL = new URL("./http-helper.js", import.meta.url);
const REQUEST_TIMEOUT_MS = 30_000;

type HostFunction = (ctx: CallContext, ...args: bigint[]) => bigint | number;

/** `store` puts a value in a new memory block for the plugin, counted against its memory cap. */
export function httpHostFunctions(allowedHosts: string[], maxBytes: number, store: (ctx: CallContext, value: string | Uint8Array) => bigint): Record<string, HostFunction> {
  let helper: Worker | undefined;
  let status = 0;
  let headers: Record<string, string> | undefined;

  const request = (ctx: CallContext, requestAddr: bigint, bodyAddr: bigint): bigint => {
    const ask = readRequest(ctx, requestAddr, bodyAddr, allowedHosts, maxBytes);
    helper ??= new Worker(HELPER_URL);
    helper.unref();
    const { port1, port2 } = new MessageChannel();
    const done = new Int32Array(new SharedArrayBuffer(4));
    helper.postMessage({ ...ask, reply: port2, done }, [port2]);
    if (Atomics.wait(done, 0, 0, REQUEST_TIMEOUT_MS + 1000) === "timed-out") {
      throw new ToolError("host", `HTTP request to ${ask.url} got no answer within ${REQUEST_TIMEOUT_MS} ms`);
    }
    const answer = receiveMessageOnPort(port1)?.message as HttpAnswer | undefined;
    port1.close();
    if (!answer) throw new ToolError("host", `HTTP request to ${ask.url} failed: no answer from the request thread`);
    if (!answer.ok) throw new ToolError("host", answer.error);
    status = answer.status;
    headers = answer.headers;
    return store(ctx, answer.body);
  };

  return {
    http_request: request,
    http_status_code: () => status,
    http_headers: (ctx) => (headers ? store(ctx, JSON.stringify(headers)) : 0n),
  };
}

function readRequest(ctx: CallContext, requestAddr: bigint, bodyAddr: bigint, allowedHosts: string[], maxBytes: number): HttpAsk {
  let parsed: unknown;
  try {
    parsed = JSON.parse(ctx.read(requestAddr)?.text() ?? "");
  } catch {
    throw new ToolError("host", "the plugin's http_request was not JSON");
  }
  const req = parsed as { url?: unknown; method?: unknown; headers?: unknown; header?: unknown };
  if (typeof req?.url !== "string") throw new ToolError("host", 'the plugin\'s http_request has no "url"');
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw new ToolError("host", `the plugin asked for an invalid URL: ${req.url}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new ToolError("host", `the plugin asked for ${url.protocol} — only http and https are supported`);
  if (!isAllowedHost(url.hostname, allowedHosts)) throw new ToolError("host", refusal(url));
  const method = typeof req.method === "string" ? req.method.toUpperCase() : "GET";
  const rawHeaders = (req.headers ?? req.header ?? {}) as Record<string, unknown>;
  const headers = Object.fromEntries(Object.entries(rawHeaders).filter(([, v]) => typeof v === "string")) as Record<string, string>;
  const body = bodyAddr === 0n || method === "GET" || method === "HEAD" ? undefined : ctx.read(bodyAddr)?.bytes().slice();
  return { url: url.href, method, headers, body, allowedHosts, maxBytes, timeoutMs: REQUEST_TIMEOUT_MS };
}
