// Modules from HTTP(S) URLs, pinned by SHA-256. A download is streamed to a temporary file while it
// is hashed and enters the cache only when the hash matches the pin; the bytes handed on are read
// back from the cache and verified again. A pinned module already in the cache needs no network.

import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { Config, ModuleSource } from "../config/load.js";
import { log } from "../core/log.js";
import { formatBytes } from "../core/format.js";
import { isLoopback } from "../core/loopback.js";
import { commit, readCached, tempFile } from "./cache.js";
import { startProgress } from "./progress.js";

export type HttpSource = Extract<ModuleSource, { kind: "http" }>;

const ATTEMPTS = 3;
const BACKOFF_MS = 200;
const MAX_REDIRECTS = 5;
const CONNECT_TIMEOUT_MS = 10_000;
/** Longest wait for response headers or between two chunks of the body. */
const IDLE_TIMEOUT_MS = 30_000;

interface DownloadOptions {
  /** Per attempt, from connecting to the last byte. */
  timeoutMs: number;
  maxBytes: number;
  allowInsecureHttp: boolean;
}

interface Downloaded {
  sha256: string;
  size: number;
}

/** Why an attempt failed, and whether trying again could help. */
class DownloadError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

/** Concurrent loads of the same URL and pin share one download. */
const inflight = new Map<string, Promise<{ bytes: Uint8Array; sha256: string }>>();

export function loadHttpModule(source: HttpSource, config: Config): Promise<{ bytes: Uint8Array; sha256: string }> {
  const key = `${config.cache.directory}\n${source.url}\n${source.sha256 ?? ""}`;
  let pending = inflight.get(key);
  if (!pending) {
    pending = load(source, config).finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  return pending;
}

async function load(source: HttpSource, config: Config): Promise<{ bytes: Uint8Array; sha256: string }> {
  const url = checkUrl(source.url, config.server.allow_insecure_http);
  const dir = config.cache.directory;
  const maxBytes = config.server.max_download_mb * 1024 * 1024;
  if (source.sha256) {
    const cached = await readCached(dir, source.sha256, maxBytes);
    if (cached) {
      log.debug(`${source.url}: verified copy in the cache (${source.sha256.slice(0, 12)}), no download`);
      return { bytes: cached, sha256: source.sha256 };
    }
  }

  const tmp = await tempFile(dir);
  let downloaded: Downloaded;
  let uncached: Uint8Array | undefined;
  try {
    downloaded = await download(url, tmp, {
      timeoutMs: config.server.download_timeout_ms,
      maxBytes,
      allowInsecureHttp: config.server.allow_insecure_http,
    });
    const actual = downloaded.sha256;
    if (source.sha256 && actual !== source.sha256) {
      throw new Error(
        `SHA-256 mismatch for ${source.url}: expected ${source.sha256}, got ${actual}; nothing was loaded. ` +
          `If the module was updated on purpose and you trust it, set sha256 = "${actual}"; otherwise check the URL`,
      );
    }
    if (!source.sha256 && !config.server.allow_unpinned) {
      throw new Error(
        `${source.url} has no sha256 pin, so it was not loaded. The file it serves now has SHA-256 ${actual}; ` +
          `if you trust it, add this line next to its url in ${config.file}:  sha256 = "${actual}"  ` +
          `(or set [server] allow_unpinned = true while developing)`,
      );
    }
    // Read before the commit: a place taken by something else in the cache leaves the bytes here.
    const bytes = new Uint8Array(await readFile(tmp));
    if (!(await commit(dir, tmp, actual, { url: source.url }, config.cache.maxSizeMb))) uncached = bytes;
  } finally {
    await rm(tmp, { force: true });
  }
  if (!source.sha256) {
    log.warn(`${source.url} is not pinned (allowed by [server] allow_unpinned); pin it with  sha256 = "${downloaded.sha256}"`);
  }
  if (uncached) return { bytes: uncached, sha256: downloaded.sha256 };
  const bytes = await readCached(dir, downloaded.sha256, maxBytes);
  if (!bytes) throw new Error(`the cache entry for ${source.url} vanished right after download; is something else cleaning ${dir}?`);
  return { bytes, sha256: downloaded.sha256 };
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

/** Downloads `url` into `file`, retrying network errors and 5xx answers with backoff. */
async function download(url: URL, file: string, options: DownloadOptions): Promise<Downloaded> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await attemptDownload(url, file, options);
    } catch (err) {
      await rm(file, { force: true });
      const error = err instanceof DownloadError ? err : new DownloadError((err as Error).message, true);
      if (!error.retry || attempt >= ATTEMPTS) {
        throw new Error(attempt > 1 ? `${error.message} (gave up after ${attempt} attempts)` : error.message);
      }
      const wait = BACKOFF_MS * 2 ** (attempt - 1);
      log.warn(`${error.message}; retrying in ${wait} ms (attempt ${attempt + 1} of ${ATTEMPTS})`);
      await sleep(wait);
    }
  }
}

async function attemptDownload(url: URL, file: string, options: DownloadOptions): Promise<Downloaded> {
  // Loaded on first download only: an offline start from the cache never pays for it.
  const { Agent, request } = await import("undici");
  const agent = new Agent({
    connect: { timeout: Math.min(CONNECT_TIMEOUT_MS, options.timeoutMs) },
    headersTimeout: Math.min(IDLE_TIMEOUT_MS, options.timeoutMs),
    bodyTimeout: Math.min(IDLE_TIMEOUT_MS, options.timeoutMs),
  });
  const signal = AbortSignal.timeout(options.timeoutMs);
  let current = url;
  let expected: number | undefined;
  let received = 0;
  let progress: ReturnType<typeof startProgress> | undefined;
  try {
    for (let redirects = 0; ; redirects++) {
      const response = await request(current, {
        method: "GET",
        dispatcher: agent,
        signal,
        headers: { "user-agent": "wasmforge", accept: "application/wasm, */*" },
      });
      const status = response.statusCode;
      const answered = `${current.href} answered ${status}${response.statusText ? ` ${response.statusText}` : ""}`;
      if (status >= 300 && status < 400 && status !== 304) {
        await response.body.dump();
        const location = response.headers.location;
        if (typeof location !== "string") throw new DownloadError(`${answered} without a Location header`, false);
        if (redirects >= MAX_REDIRECTS) throw new DownloadError(`${url.href}: more than ${MAX_REDIRECTS} redirects; check the URL`, false);
        // Every hop is checked: https must not be redirected to plain http elsewhere.
        try {
          current = checkUrl(new URL(location, current).href, options.allowInsecureHttp);
        } catch (err) {
          throw new DownloadError(`${url.href} redirects to ${location}: ${(err as Error).message}`, false);
        }
        continue;
      }
      if (status >= 500 || status === 429 || status === 408) {
        await response.body.dump();
        throw new DownloadError(`${answered}`, true);
      }
      if (status !== 200) {
        await response.body.dump();
        throw new DownloadError(`${answered}; check the URL`, false);
      }

      const length = Number(response.headers["content-length"]);
      expected = Number.isFinite(length) && length >= 0 ? length : undefined;
      const tooLarge = () =>
        new DownloadError(
          `${current.href} is larger than the ${formatBytes(options.maxBytes)} download limit; raise [server] max_download_mb if that is expected`,
          false,
        );
      if (expected !== undefined && expected > options.maxBytes) {
        response.body.destroy();
        throw tooLarge();
      }
      const hash = createHash("sha256");
      progress = startProgress(current.href, expected);
      const meter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          received += chunk.length;
          if (received > options.maxBytes) return callback(tooLarge());
          hash.update(chunk);
          progress?.advance(chunk.length);
          callback(null, chunk);
        },
      });
      await pipeline(response.body, meter, createWriteStream(file));
      if (expected !== undefined && received !== expected) {
        throw new DownloadError(`${current.href}: got ${received} of ${expected} bytes`, true);
      }
      progress.done();
      progress = undefined;
      return { sha256: hash.digest("hex"), size: received };
    }
  } catch (err) {
    progress?.stop();
    throw describe(err, current, signal, options, expected === undefined ? undefined : { received, expected });
  } finally {
    void agent.destroy().catch(() => undefined);
  }
}

/** Turns what undici or Node threw into a message that says what happened to which URL. */
function describe(err: unknown, url: URL, signal: AbortSignal, options: DownloadOptions, body?: { received: number; expected: number }): DownloadError {
  if (err instanceof DownloadError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? "";
  const message = (err as Error).message;
  const timeoutHint = "check the URL and your network, or raise [server] download_timeout_ms";
  if (signal.aborted) {
    return new DownloadError(`${url.href}: download did not finish within ${options.timeoutMs} ms; ${timeoutHint}`, true);
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
