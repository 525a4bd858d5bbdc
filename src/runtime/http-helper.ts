// Runs the HTTP requests Extism plugins make (http_request) for one call worker. The plugin's
// call is synchronous, so its worker waits on a shared flag while this thread fetches; the answer
// goes back on a message port the worker reads synchronously once the flag flips.

import { parentPort, type MessagePort } from "node:worker_threads";
import { isAllowedHost, refusal, type HttpAnswer, type HttpAsk } from "./http-host.js";

const MAX_REDIRECTS = 5;

parentPort!.on("message", (ask: HttpAsk & { reply: MessagePort; done: Int32Array }) => {
  void answer(ask).then((result) => {
    const transfer = result.ok ? [result.body.buffer as ArrayBuffer] : [];
    ask.reply.postMessage(result, transfer);
    Atomics.store(ask.done, 0, 1);
    Atomics.notify(ask.done, 0);
  });
});

async function answer(ask: HttpAsk): Promise<HttpAnswer> {
  try {
    let url = new URL(ask.url);
    let method = ask.method;
    let body = ask.body;
    const signal = AbortSignal.timeout(ask.timeoutMs);
    for (let hop = 0; ; hop++) {
      const response = await fetch(url, { method, headers: ask.headers, body: body as Uint8Array<ArrayBuffer> | undefined, redirect: "manual", signal });
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location) {
        // Every hop must be a host the module may reach, not only the first.
        if (hop >= MAX_REDIRECTS) return { ok: false, error: `more than ${MAX_REDIRECTS} redirects from ${ask.url}` };
        url = new URL(location, url);
        if (!isAllowedHost(url.hostname, ask.allowedHosts)) return { ok: false, error: refusal(url) };
        if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === "POST")) {
          method = "GET";
          body = undefined;
        }
        await response.body?.cancel();
        continue;
      }
      const bytes = await readLimited(response, ask.maxBytes);
      if (!bytes) return { ok: false, error: `the response from ${url.origin} is over the ${ask.maxBytes}-byte limit (max_output_mb)` };
      return { ok: true, status: response.status, headers: Object.fromEntries(response.headers), body: bytes };
    }
  } catch (err) {
    const reason = err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
    return { ok: false, error: `HTTP request to ${ask.url} failed: ${reason}` };
  }
}

async function readLimited(response: Response, maxBytes: number): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += (chunk as Uint8Array).length;
    if (size > maxBytes) {
      await response.body?.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(chunk as Uint8Array);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
