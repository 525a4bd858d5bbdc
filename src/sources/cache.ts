// The download cache: content-addressed (a file is named by its SHA-256), verified again on every
// read, least-recently-used entries evicted past a size limit. Layout inside the cache directory:
//   modules/<sha256>.wasm   verified module bytes
//   modules/<sha256>.json   where it came from (informational, for `cache list`)
//   tmp/                    downloads in progress; renamed into modules/ only once verified

import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { log } from "../log.js";

/** Used when `[cache] max_size_mb` is not set. */
export const DEFAULT_MAX_SIZE_MB = 1024;

const ENTRY = /^([0-9a-f]{64})\.wasm$/;

const metadataSchema = z.object({ url: z.string(), downloaded: z.string() });

export interface CacheEntry {
  sha256: string;
  file: string;
  size: number;
  lastUsed: Date;
  /** The URL it was downloaded from, when known. */
  url?: string;
}

/** Entries read or written by this process: never evicted while it runs. */
const inUse = new Set<string>();

const modulesDir = (dir: string) => join(dir, "modules");
export const entryPath = (dir: string, sha256: string) => join(modulesDir(dir), `${sha256}.wasm`);
const metadataPath = (dir: string, sha256: string) => join(modulesDir(dir), `${sha256}.json`);

/**
 * The cached bytes for `sha256`, or undefined when not cached. The bytes are hashed again: an entry
 * that no longer matches its name (corrupted or tampered with) is deleted and reported as missing.
 */
export async function readCached(dir: string, sha256: string): Promise<Uint8Array | undefined> {
  const file = entryPath(dir, sha256);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`cannot read cache entry ${file}: ${(err as Error).message}`);
  }
  const actual = sha256Hex(bytes);
  if (actual !== sha256) {
    log.warn(`cache entry ${file} is corrupted (its SHA-256 is now ${actual}); discarding it and downloading again`);
    await rm(file, { force: true });
    return undefined;
  }
  inUse.add(sha256);
  // The modification time is the "last used" clock for eviction (atime is often not updated).
  const now = new Date();
  await utimes(file, now, now).catch(() => undefined);
  return bytes;
}

/** A fresh path under the cache's tmp/ (same filesystem, so the final rename is atomic). */
export async function tempFile(dir: string): Promise<string> {
  const tmp = join(dir, "tmp");
  try {
    await mkdir(tmp, { recursive: true });
  } catch (err) {
    throw new Error(
      `cannot create the download cache at ${dir}: ${(err as Error).message}; set [cache] directory to a writable folder`,
    );
  }
  return join(tmp, `${Date.now()}-${randomBytes(6).toString("hex")}.part`);
}

/** Moves a verified download into the cache under its hash, then evicts old entries if over the limit. */
export async function commit(dir: string, tmp: string, sha256: string, url: string, maxSizeMb = DEFAULT_MAX_SIZE_MB): Promise<void> {
  await mkdir(modulesDir(dir), { recursive: true });
  await rename(tmp, entryPath(dir, sha256));
  const metadata: z.infer<typeof metadataSchema> = { url, downloaded: new Date().toISOString() };
  await writeFile(metadataPath(dir, sha256), JSON.stringify(metadata) + "\n").catch(() => undefined);
  inUse.add(sha256);
  await evict(dir, maxSizeMb * 1024 * 1024);
}

export async function listCache(dir: string): Promise<CacheEntry[]> {
  let names: string[];
  try {
    names = await readdir(modulesDir(dir));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const entries: CacheEntry[] = [];
  for (const name of names) {
    const sha256 = ENTRY.exec(name)?.[1];
    if (!sha256) continue;
    const file = join(modulesDir(dir), name);
    const info = await stat(file).catch(() => undefined);
    if (!info) continue;
    entries.push({ sha256, file, size: info.size, lastUsed: info.mtime, url: await readUrl(dir, sha256) });
  }
  return entries.sort((a, b) => b.lastUsed.getTime() - a.lastUsed.getTime());
}

async function readUrl(dir: string, sha256: string): Promise<string | undefined> {
  try {
    const parsed = metadataSchema.safeParse(JSON.parse(await readFile(metadataPath(dir, sha256), "utf8")));
    return parsed.success ? parsed.data.url : undefined;
  } catch {
    return undefined;
  }
}

/** Removes every entry and unfinished download; only WasmForge's own files, never the directory itself. */
export async function clearCache(dir: string): Promise<{ removed: number; bytes: number }> {
  const entries = await listCache(dir);
  for (const entry of entries) await removeEntry(dir, entry.sha256);
  await rm(join(dir, "tmp"), { recursive: true, force: true });
  return { removed: entries.length, bytes: entries.reduce((sum, e) => sum + e.size, 0) };
}

async function removeEntry(dir: string, sha256: string): Promise<void> {
  await rm(entryPath(dir, sha256), { force: true });
  await rm(metadataPath(dir, sha256), { force: true });
}

/** Deletes least-recently-used entries until the cache fits; entries this process uses are kept. */
async function evict(dir: string, maxBytes: number): Promise<void> {
  await removeStaleDownloads(dir);
  const entries = await listCache(dir);
  let total = entries.reduce((sum, e) => sum + e.size, 0);
  for (const entry of [...entries].reverse()) {
    if (total <= maxBytes) return;
    if (inUse.has(entry.sha256)) continue;
    await removeEntry(dir, entry.sha256);
    total -= entry.size;
    log.info(`cache: evicted ${entry.sha256.slice(0, 12)} (${formatSize(entry.size)}, last used ${entry.lastUsed.toISOString()}) to stay under [cache] max_size_mb`);
  }
  if (total > maxBytes) {
    log.warn(`cache at ${dir} holds ${formatSize(total)}, over [cache] max_size_mb, but every entry is in use; raise the limit`);
  }
}

/** Downloads left behind by a process that was killed mid-download. */
async function removeStaleDownloads(dir: string): Promise<void> {
  const tmp = join(dir, "tmp");
  const names = await readdir(tmp).catch(() => [] as string[]);
  const dayAgo = Date.now() - 24 * 60 * 60 * 1000;
  for (const name of names) {
    const info = await stat(join(tmp, name)).catch(() => undefined);
    if (info && info.mtimeMs < dayAgo) await rm(join(tmp, name), { force: true });
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
