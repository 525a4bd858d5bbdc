// HTTP(S) requests for module sources, shared by plain URLs and OCI registries: undici with
// connect, idle and overall deadlines, redirects checked hop by hop, retries with back-off,
// size limits, bodies streamed to a file while hashed, and progress on stderr.

import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import type { IncomingHttpHeaders } from "node:http";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { Dispatcher } from "undici";
import { formatBytes } from "../core/format.js";
import { log } from "../core/log.js";
import { isLoopback } from "../core/loopback.js";
import { startProgress, type Progress } from "./progress.js";

const ATTEMPTS = 3;
const BACKOFF_MS = 200;
const MAX_REDIRECTS = 5;
const CONNECT_TIMEOUT_MS = 10_000;
/** Longest wait for response headers or between two chunks of the body. */
const IDLE_TIMEOUT_MS = 30_000;

export interface Limits {
  /** Per attempt, from connecting to the last byte. */
  timeoutMs: number;
  maxBytes: number;
  allowInsecureHttp: boolean;
}

export interface Request {
  url: URL;
  headers?: Record<string, string>;
  /**
   * Sent to the request's own origin only: registries redirect blobs to storage elsewhere, and
   * credentials must not follow.
   */
  authorization?: string;
  /** Names the download in progress lines (default: the URL). */
  label?: string;
  /** How to name a body over `maxBytes` in the error, e.g. "the manifest". Default: the URL. */
  what?: string;
}

/** Why an attempt failed, and whether trying again could help. */
export class DownloadError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
    /** The HTTP status when the server answered with an error. */
    readonly status?: number,
    /** Its `WWW-Authenticate` header, for a 401. */
    readonly challenge?: string,
  ) {
    super(message);
  }
}

/** https:// anywhere; http:// only to this machine unless `allow_insecure_http`. */
export function checkUrl(url: string, allowInsecureHttp: boolean): URL {
  const parsed = new URL(url);
  if (parsed.protocol === "https:") return parsed;
  if (parsed.protocol === "http:") {
    if (allowInsecureHttp || isLoopback(parsed.hostname)) return parsed;
    throw new Error(
      `refusing plain http:// for ${url} (only loopback hosts may use it); use https://, or set [server] allow_insecure_http = true`,
    );
  }
  throw new Error(`unsupported URL scheme "${parsed.protocol}" in ${url}; use an https:// URL`);
}

/** Runs `attempt` up to 3 times while it fails with a retryable error, with back-off in between. */
export async function withRetries<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      const error = err instanceof DownloadError ? err : new DownloadError((err as Error).message, true);
      if (!error.retry || n >= ATTEMPTS) {
        if (n === 1) throw error;
        throw new DownloadError(`${error.message} (gave up after ${n} attempts)`, false, error.status, error.challenge);
      }
      const wait = BACKOFF_MS * 2 ** (n - 1);
      log.warn(`${error.message}; retrying in ${wait} ms (attempt ${n + 1} of ${ATTEMPTS})`);
      await sleep(wait);
    }
  }
}

export interface Downloaded {
  sha256: string;
  size: number;
}

/** Streams a 200 answer into `file` while hashing it, retrying; a failed attempt leaves no file. */
export function downloadToFile(request: Request, file: string, limits: Limits, size?: number): Promise<Downloaded> {
  return withRetries(async () => {
    try {
      return await downloadOnce(request, file, limits, size);
    } catch (err) {
      await rm(file, { force: true });
      throw err;
    }
  });
}

/**
 * One attempt at streaming a 200 answer into `file` while hashing it. `size`, when known (a
 * registry's descriptor), is checked before and after.
 */
function downloadOnce(request: Request, file: string, limits: Limits, size?: number): Promise<Downloaded> {
  return exchange(request, limits, async (response, url, fail) => {
    const length = Number(response.headers["content-length"]);
    const expected = size ?? (Number.isFinite(length) && length >= 0 ? length : undefined);
    if (expected !== undefined && expected > limits.maxBytes) {
      response.body.destroy();
      throw tooLarge(request, url, limits);
    }
    const hash = createHash("sha256");
    let received = 0;
    const progress: Progress = startProgress(request.label ?? url.href, expected);
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        if (received > limits.maxBytes) return callback(tooLarge(request, url, limits));
        hash.update(chunk);
        progress.advance(chunk.length);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(response.body, meter, createWriteStream(file));
    } catch (err) {
      progress.stop();
      throw fail(err, expected === undefined ? undefined : { received, expected });
    }
    if (expected !== undefined && received !== expected) {
      progress.stop();
      throw new DownloadError(`${url.href}: got ${received} of ${expected} bytes`, true);
    }
    progress.done();
    return { sha256: hash.digest("hex"), size: received };
  });
}

export interface Fetched {
  body: Buffer;
  headers: IncomingHttpHeaders;
  url: URL;
}

/** One attempt at reading a small 200 answer (a manifest, a token) into memory. */
export function fetchOnce(request: Request, limits: Limits): Promise<Fetched> {
  return exchange(request, limits, async (response, url, fail) => {
    const chunks: Buffer[] = [];
    let received = 0;
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > limits.maxBytes) {
          response.body.destroy();
          throw tooLarge(request, url, limits);
        }
        chunks.push(chunk);
      }
    } catch (err) {
      throw fail(err);
    }
    return { body: Buffer.concat(chunks), headers: response.headers, url };
  });
}

type Respond<T> = (
  response: Dispatcher.ResponseData,
  url: URL,
  fail: (err: unknown, body?: { received: number; expected: number }) => DownloadError,
) => Promise<T>;

/** Sends the GET, follows redirects, turns error statuses into DownloadErrors, and hands a 200 on. */
async function exchange<T>(request: Request, limits: Limits, respond: Respond<T>): Promise<T> {
  // Loaded on first download only: an offline start from the cache never pays for it.
  const { Agent, request: send } = await import("undici");
  const agent = new Agent({
    connect: { timeout: Math.min(CONNECT_TIMEOUT_MS, limits.timeoutMs) },
    headersTimeout: Math.min(IDLE_TIMEOUT_MS, limits.timeoutMs),
    bodyTimeout: Math.min(IDLE_TIMEOUT_MS, limits.timeoutMs),
  });
  const signal = AbortSignal.timeout(limits.timeoutMs);
  const start = request.url;
  let current = start;
  const fail = (err: unknown, body?: { received: number; expected: number }) => describe(err, current, signal, limits, body);
  try {
    for (let redirects = 0; ; redirects++) {
      const headers: Record<string, string> = { "user-agent": "wasmforge", ...request.headers };
      if (request.authorization && current.origin === start.origin) headers.authorization = request.authorization;
      const response = await send(current, { method: "GET", dispatcher: agent, signal, headers });
      const status = response.statusCode;
      const answered = `${current.href} answered ${status}${response.statusText ? ` ${response.statusText}` : ""}`;
      if (status >= 300 && status < 400 && status !== 304) {
        await response.body.dump();
        const location = response.headers.location;
        if (typeof location !== "string") throw new DownloadError(`${answered} without a Location header`, false);
        if (redirects >= MAX_REDIRECTS) throw new DownloadError(`${start.href}: more than ${MAX_REDIRECTS} redirects; check the URL`, false);
        // Every hop is checked: https must not be redirected to plain http elsewhere.
        try {
          current = checkUrl(new URL(location, current).href, limits.allowInsecureHttp);
        } catch (err) {
          throw new DownloadError(`${start.href} redirects to ${location}: ${(err as Error).message}`, false);
        }
        continue;
      }
      if (status >= 500 || status === 429 || status === 408) {
        await response.body.dump();
        throw new DownloadError(answered, true, status);
      }
      if (status !== 200) {
        await response.body.dump();
        const challenge = response.headers["www-authenticate"];
        throw new DownloadError(`${answered}; check the URL`, false, status, Array.isArray(challenge) ? challenge.join(", ") : challenge);
      }
      return await respond(response, current, fail);
    }
  } catch (err) {
    throw fail(err);
  } finally {
    void agent.destroy().catch(() => undefined);
  }
}

function tooLarge(request: Request, url: URL, limits: Limits): DownloadError {
  return new DownloadError(
    `${request.what ?? url.href} is larger than the ${formatBytes(limits.maxBytes)} download limit; raise [server] max_download_mb if that is expected`,
    false,
  );
}

/** Turns what undici or Node threw into a message that says what happened to which URL. */
function describe(err: unknown, url: URL, signal: AbortSignal, limits: Limits, body?: { received: number; expected: number }): DownloadError {
  if (err instanceof DownloadError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? "";
  const message = (err as Error).message;
  const timeoutHint = "check the URL and your network, or raise [server] download_timeout_ms";
  if (signal.aborted) {
    return new DownloadError(`${url.href}: download did not finish within ${limits.timeoutMs} ms; ${timeoutHint}`, true);
  }
  if (body && body.received < body.expected) {
    return new DownloadError(`${url.href}: connection closed after ${body.received} of ${body.expected} bytes (truncated download)`, true);
  }
  switch (code) {
    case "UND_ERR_CONNECT_TIMEOUT":
      return new DownloadError(`${url.href}: could not connect to ${url.host} in time; ${timeoutHint}`, true);
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
      return new DownloadError(`${url.href}: the server stopped answering; ${timeoutHint}`, true);
    case "ECONNREFUSED":
      return new DownloadError(`${url.href}: connection refused by ${url.host}; is the server up?`, true);
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new DownloadError(`${url.href}: host ${url.hostname} not found; check the URL and your DNS`, true);
    case "ECONNRESET":
    case "UND_ERR_SOCKET":
      return new DownloadError(`${url.href}: the connection closed unexpectedly (${message})`, true);
  }
  if (/CERT|SSL|TLS/i.test(code)) {
    return new DownloadError(`${url.href}: TLS certificate problem (${code}: ${message}); check the URL or the server's certificate`, false);
  }
  return new DownloadError(`${url.href}: ${message}${code ? ` (${code})` : ""}`, true);
}
