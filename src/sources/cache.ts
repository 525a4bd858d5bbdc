// The download cache: content-addressed (a file is named by its SHA-256), verified again on every
// read, least-recently-used entries evicted past a size limit. Layout inside the cache directory:
//   modules/<sha256>.wasm   verified module bytes
//   modules/<sha256>.json   the record WasmForge wrote for it (where it came from, for `cache list`)
//   oci/<digest hex>.json   for OCI images: the module a manifest digest resolved to, so a reference
//                           pinned by digest starts with no network once its module is cached
//   .wasmforge-tmp/         downloads in progress; renamed into modules/ only once verified
//
// `[cache] directory` may be a folder that holds other things (a home folder, "."), so the cache
// removes only what it wrote: entries that have its record beside them, and its own temp files.

import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { formatBytes } from "../core/format.js";
import { sha256Hex } from "../core/hash.js";
import { log } from "../core/log.js";

/** Used when `[cache] max_size_mb` is not set. */
export const DEFAULT_MAX_SIZE_MB = 1024;

const ENTRY = /^([0-9a-f]{64})\.wasm$/;
const TEMP_DIR = ".wasmforge-tmp";
const TEMP_FILE = /^\d+-[0-9a-f]{12}\.part$/;

const OCI_DIR = "oci";
const OCI_ENTRY = /^([0-9a-f]{64})\.json$/;
const ociRecordSchema = z.object({ digest: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), reference: z.string(), recorded: z.string() });

const recordSchema = z.object({ url: z.string(), downloaded: z.string(), reference: z.string().optional(), digest: z.string().optional() });
export type CacheRecord = z.infer<typeof recordSchema>;

export interface CacheEntry {
  sha256: string;
  file: string;
  size: number;
  lastUsed: Date;
  /** Where it was downloaded from. */
  url: string;
  /** For modules from an OCI registry: the reference and the manifest digest. */
  reference?: string;
  digest?: string;
}

/** Entries read or written by this process: never evicted while it runs. */
const inUse = new Set<string>();

const modulesDir = (dir: string) => join(dir, "modules");
export const entryPath = (dir: string, sha256: string) => join(modulesDir(dir), `${sha256}.wasm`);
const recordPath = (dir: string, sha256: string) => join(modulesDir(dir), `${sha256}.json`);

/**
 * The cached bytes for `sha256`, or undefined when not cached. The bytes are hashed again: an entry
 * that no longer matches its name (corrupted or tampered with) is discarded and reported as
 * missing. Only a regular file is read (never a FIFO, a device or a link), and no more than
 * `maxBytes` of it.
 */
export async function readCached(dir: string, sha256: string, maxBytes: number): Promise<Uint8Array | undefined> {
  const file = entryPath(dir, sha256);
  const bytes = await readRegularFile(file, maxBytes);
  if (bytes === "missing") return undefined;
  if (typeof bytes === "string") {
    log.warn(`cache entry ${file} ${bytes}; ignoring it and downloading again`);
    return undefined;
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

/** The file's bytes, "missing", or why it is not a usable entry. */
async function readRegularFile(file: string, maxBytes: number): Promise<Uint8Array | "missing" | string> {
  let handle;
  try {
    // O_NONBLOCK: opening a FIFO would otherwise wait for a writer; O_NOFOLLOW: a link is not ours.
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return "missing";
    if (code === "ELOOP") return "is a symbolic link, not a file WasmForge wrote";
    return `cannot be read (${(err as Error).message})`;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return "is not a regular file";
    if (info.size > maxBytes) return `is larger (${formatBytes(info.size)}) than the ${formatBytes(maxBytes)} download limit`;
    const bytes = new Uint8Array(info.size);
    const { bytesRead } = await handle.read(bytes, 0, info.size, 0);
    return bytesRead === info.size ? bytes : "changed while it was read";
  } finally {
    await handle.close();
  }
}

/** A fresh path under the cache's own temp folder (same filesystem, so the final rename is atomic). */
export async function tempFile(dir: string): Promise<string> {
  const tmp = join(dir, TEMP_DIR);
  try {
    await mkdir(tmp, { recursive: true });
  } catch (err) {
    throw new Error(`cannot create the download cache at ${dir}: ${(err as Error).message}; set [cache] directory to a writable folder`);
  }
  return join(tmp, `${Date.now()}-${randomBytes(6).toString("hex")}.part`);
}

/**
 * Moves a verified download into the cache under its hash, with its record, then evicts old
 * entries if over the limit. False when the entry's place is taken by something that is not a
 * cache file (the caller then serves the download without caching it).
 */
export async function commit(dir: string, tmp: string, sha256: string, record: Omit<CacheRecord, "downloaded">, maxSizeMb = DEFAULT_MAX_SIZE_MB): Promise<boolean> {
  await mkdir(modulesDir(dir), { recursive: true });
  const target = entryPath(dir, sha256);
  const existing = await stat(target).catch(() => undefined);
  if (existing && !existing.isFile()) {
    log.warn(`cache: ${target} is not a regular file, so the download is served without being cached; remove it to cache again`);
    return false;
  }
  await rename(tmp, target);
  const full: CacheRecord = { ...record, downloaded: new Date().toISOString() };
  await writeFile(recordPath(dir, sha256), JSON.stringify(full) + "\n");
  inUse.add(sha256);
  await evict(dir, maxSizeMb * 1024 * 1024);
  return true;
}

const ociPath = (dir: string, digest: string) => join(dir, OCI_DIR, `${digest.replace(/^sha256:/, "")}.json`);

/** Remembers that the manifest `digest` (`sha256:…`) holds the module `sha256`. */
export async function recordOciDigest(dir: string, digest: string, sha256: string, reference: string): Promise<void> {
  await mkdir(join(dir, OCI_DIR), { recursive: true });
  const record = { digest, sha256, reference, recorded: new Date().toISOString() };
  await writeFile(ociPath(dir, digest), JSON.stringify(record) + "\n");
}

/** The module SHA-256 a manifest digest resolved to before, if recorded. The entry itself is verified when read. */
export async function lookupOciDigest(dir: string, digest: string): Promise<string | undefined> {
  return (await readOciRecord(join(dir, OCI_DIR), `${digest.replace(/^sha256:/, "")}.json`))?.sha256;
}

async function readOciRecord(ociDir: string, name: string): Promise<z.infer<typeof ociRecordSchema> | undefined> {
  if (!OCI_ENTRY.test(name)) return undefined;
  try {
    const parsed = ociRecordSchema.safeParse(JSON.parse(await readFile(join(ociDir, name), "utf8")));
    // Only a record that names itself is WasmForge's.
    return parsed.success && parsed.data.digest === `sha256:${name.slice(0, 64)}` ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the digest records that `pick` chooses (by the module they point at); only files WasmForge wrote. */
async function removeOciRecords(dir: string, pick: (sha256: string) => boolean): Promise<void> {
  const ociDir = join(dir, OCI_DIR);
  const names = await readdir(ociDir).catch(() => [] as string[]);
  for (const name of names) {
    const record = await readOciRecord(ociDir, name);
    if (record && pick(record.sha256)) await rm(join(ociDir, name), { force: true });
  }
}

/** Every entry WasmForge recorded, most recently used first. */
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
    const record = await readRecord(dir, sha256);
    if (!record) continue; // not written by WasmForge: not ours to list or remove
    const file = join(modulesDir(dir), name);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) continue;
    entries.push({ sha256, file, size: info.size, lastUsed: info.mtime, url: record.url, reference: record.reference, digest: record.digest });
  }
  return entries.sort((a, b) => b.lastUsed.getTime() - a.lastUsed.getTime());
}

/** The record WasmForge wrote beside an entry, if any. */
export async function readRecord(dir: string, sha256: string): Promise<CacheRecord | undefined> {
  try {
    const parsed = recordSchema.safeParse(JSON.parse(await readFile(recordPath(dir, sha256), "utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Removes every recorded entry and every unfinished download; nothing else in the directory. */
export async function clearCache(dir: string): Promise<{ removed: number; bytes: number }> {
  const entries = await listCache(dir);
  for (const entry of entries) await removeEntry(dir, entry.sha256);
  await removeTempFiles(dir, () => true);
  await removeOciRecords(dir, () => true);
  // Only once empty: a folder that holds anything else is left as it is.
  await rmdir(join(dir, TEMP_DIR)).catch(() => undefined);
  await rmdir(join(dir, OCI_DIR)).catch(() => undefined);
  await rmdir(modulesDir(dir)).catch(() => undefined);
  return { removed: entries.length, bytes: entries.reduce((sum, e) => sum + e.size, 0) };
}

/** Removes every derived form WasmForge recorded (a file with its record beside it). */
async function removeDerived(dir: string): Promise<void> {
  const names = await readdir(derivedDir(dir)).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.endsWith(".json") || !DERIVED_NAME.test(name.slice(0, -5))) continue;
    await rm(join(derivedDir(dir), name.slice(0, -5)), { force: true });
    await rm(join(derivedDir(dir), name), { force: true });
  }
  await rmdir(derivedDir(dir)).catch(() => undefined);
}

async function removeEntry(dir: string, sha256: string): Promise<void> {
  await rm(entryPath(dir, sha256), { force: true });
  await rm(recordPath(dir, sha256), { force: true });
}

/** Deletes least-recently-used entries until the cache fits; entries this process uses are kept. */
async function evict(dir: string, maxBytes: number): Promise<void> {
  const dayAgo = Date.now() - 24 * 60 * 60 * 1000;
  // Downloads left behind by a process that was killed mid-download.
  await removeTempFiles(dir, (mtimeMs) => mtimeMs < dayAgo);
  const entries = await listCache(dir);
  let total = entries.reduce((sum, e) => sum + e.size, 0);
  const evicted = new Set<string>();
  for (const entry of [...entries].reverse()) {
    if (total <= maxBytes) break;
    if (inUse.has(entry.sha256)) continue;
    await removeEntry(dir, entry.sha256);
    evicted.add(entry.sha256);
    total -= entry.size;
    log.info(`cache: evicted ${entry.sha256.slice(0, 12)} (${formatBytes(entry.size)}, last used ${entry.lastUsed.toISOString()}) to stay under [cache] max_size_mb`);
  }
  if (evicted.size) await removeOciRecords(dir, (sha256) => evicted.has(sha256));
  if (total > maxBytes) {
    log.warn(`cache at ${dir} holds ${formatBytes(total)}, over [cache] max_size_mb, but every entry is in use; raise the limit`);
  }
}

/** Removes WasmForge's own temp files (by their name pattern) that `stale` picks. */
async function removeTempFiles(dir: string, stale: (mtimeMs: number) => boolean): Promise<void> {
  const tmp = join(dir, TEMP_DIR);
  const names = await readdir(tmp).catch(() => [] as string[]);
  for (const name of names) {
    if (!TEMP_FILE.test(name)) continue;
    const info = await stat(join(tmp, name)).catch(() => undefined);
    if (info?.isFile() && stale(info.mtimeMs)) await rm(join(tmp, name), { force: true });
  }
}

// ---------------------------------------------------------------- derived forms
// What WasmForge makes from a module and keeps so a restart does not make it again (e.g. the
// metered rewrite of a large module): derived/<name> with a record of its SHA-256 beside it,
// verified on every read and removed by `cache clear` like the entries.

const derivedDir = (dir: string) => join(dir, "derived");
const DERIVED_NAME = /^[0-9a-z][0-9a-z.-]{0,120}$/;

/** A derived form recorded under `name` (letters, digits, "-" and "."), or undefined. */
export async function readDerived(dir: string, name: string, maxBytes: number): Promise<Uint8Array | undefined> {
  if (!DERIVED_NAME.test(name)) throw new Error(`not a derived cache name: ${name}`);
  const file = join(derivedDir(dir), name);
  let record: { sha256?: unknown };
  try {
    record = JSON.parse(await readFile(`${file}.json`, "utf8")) as { sha256?: unknown };
  } catch {
    return undefined;
  }
  const bytes = await readRegularFile(file, maxBytes);
  if (typeof bytes === "string" || sha256Hex(bytes) !== record.sha256) return undefined;
  return bytes;
}

/** Records a derived form; a failure to write only costs making it again next time. */
export async function writeDerived(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  if (!DERIVED_NAME.test(name)) throw new Error(`not a derived cache name: ${name}`);
  try {
    await mkdir(derivedDir(dir), { recursive: true });
    const tmp = await tempFile(dir);
    await writeFile(tmp, bytes);
    await rename(tmp, join(derivedDir(dir), name));
    await writeFile(join(derivedDir(dir), `${name}.json`), `${JSON.stringify({ sha256: sha256Hex(bytes), written: new Date().toISOString() })}\n`);
  } catch (err) {
    log.debug(`cache: could not keep ${name}: ${(err as Error).message}`);
  }
}
