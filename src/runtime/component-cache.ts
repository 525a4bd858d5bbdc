// The transpiled form of components, cached beside the download cache so that a restart does not
// transpile again. Layout inside the cache directory:
//   components/<sha256>-<options>/manifest.json    the record WasmForge wrote: the component's
//                                                  SHA-256, jco-transpile's version, every file
//                                                  with its own SHA-256
//   components/<sha256>-<options>/component.js     the generated bindings
//   components/<sha256>-<options>/component.core*.wasm   the core modules, as jco wrote them
//   components/.tmp-<pid>-<random>/                an entry being written; renamed into place whole
// <options> is a hash of jco-transpile's version and the transpile options: the bindings change
// with either. As for downloads, the cache only ever removes what it recorded: an entry whose
// manifest names it, and its own temp folders. Every file is hashed again when read, so a
// changed file (the bindings are code that runs) is never used.

import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, utimes, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { z } from "zod";
import { formatBytes } from "../core/format.js";
import { sha256Hex } from "../core/hash.js";
import { log } from "../core/log.js";

const DIR = "components";
const ENTRY = /^([0-9a-f]{64})-([0-9a-f]{12})$/;
const TEMP = /^\.tmp-\d+-[0-9a-f]{12}$/;
const FILE_NAME = /^[A-Za-z0-9._-]+$/;

const manifestSchema = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  jcoTranspile: z.string(),
  /** The bindings' file name, and every core module's, each with its SHA-256. */
  entry: z.string().regex(FILE_NAME),
  coreModules: z.array(z.string().regex(FILE_NAME)),
  files: z.record(z.string().regex(FILE_NAME), z.string().regex(/^[0-9a-f]{64}$/)),
  transpileMs: z.number(),
  created: z.string(),
});
export type ComponentManifest = z.infer<typeof manifestSchema>;

export interface TranspiledEntry {
  dir: string;
  manifest: ComponentManifest;
  /** The core modules' bytes, by file name, verified. */
  coreModules: Record<string, Uint8Array>;
}

export interface ComponentCacheEntry {
  dir: string;
  sha256: string;
  size: number;
  lastUsed: Date;
  jcoTranspile: string;
}

/** Entries read or written by this process: never evicted while it runs. */
const inUse = new Set<string>();

export const entryDir = (cacheDir: string, sha256: string, optionsKey: string) => join(cacheDir, DIR, `${sha256}-${optionsKey}`);

/** The cached entry, every file checked against its recorded hash; undefined when there is none (or it no longer matches). */
export async function readEntry(cacheDir: string, sha256: string, optionsKey: string): Promise<TranspiledEntry | undefined> {
  const dir = entryDir(cacheDir, sha256, optionsKey);
  const manifest = await readManifest(dir);
  if (!manifest || manifest.sha256 !== sha256) return undefined;
  const coreModules: Record<string, Uint8Array> = {};
  for (const [name, expected] of Object.entries(manifest.files)) {
    const bytes = await readFile(join(dir, name)).catch(() => undefined);
    if (!bytes || sha256Hex(bytes) !== expected) {
      log.warn(`cache: ${join(dir, name)} is missing or changed since it was written; transpiling the component again`);
      await rm(dir, { recursive: true, force: true });
      return undefined;
    }
    if (manifest.coreModules.includes(name)) coreModules[name] = new Uint8Array(bytes);
  }
  inUse.add(dir);
  const now = new Date();
  await utimes(join(dir, "manifest.json"), now, now).catch(() => undefined);
  return { dir, manifest, coreModules };
}

async function readManifest(dir: string): Promise<ComponentManifest | undefined> {
  try {
    const parsed = manifestSchema.safeParse(JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")));
    // Only a manifest that names its own folder is WasmForge's.
    if (!parsed.success || ENTRY.exec(basename(dir))?.[1] !== parsed.data.sha256) return undefined;
    const named = [parsed.data.entry, ...parsed.data.coreModules];
    return named.every((f) => f in parsed.data.files) ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes an entry: into a temp folder, then renamed into place, so a crash never leaves half an
 * entry. When another process wrote the same entry meanwhile, that one is kept.
 */
export async function writeEntry(
  cacheDir: string,
  optionsKey: string,
  sha256: string,
  files: Record<string, Uint8Array>,
  record: Pick<ComponentManifest, "jcoTranspile" | "entry" | "coreModules" | "transpileMs">,
  maxSizeMb: number,
): Promise<string> {
  const root = join(cacheDir, DIR);
  try {
    await mkdir(root, { recursive: true });
  } catch (err) {
    throw new Error(`cannot create the component cache at ${root}: ${(err as Error).message}; set [cache] directory to a writable folder`);
  }
  const dir = entryDir(cacheDir, sha256, optionsKey);
  const tmp = join(root, `.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
  await mkdir(tmp);
  try {
    for (const [name, bytes] of Object.entries(files)) {
      if (!FILE_NAME.test(name)) throw new Error(`jco-transpile produced an unexpected file name "${name}"`);
      await writeFile(join(tmp, name), bytes);
    }
    const manifest: ComponentManifest = {
      sha256,
      ...record,
      files: Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, sha256Hex(bytes)])),
      created: new Date().toISOString(),
    };
    await writeFile(join(tmp, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    try {
      await rename(tmp, dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  inUse.add(dir);
  await evict(cacheDir, maxSizeMb * 1024 * 1024);
  return dir;
}

/** Every entry WasmForge recorded, most recently used first. */
export async function listComponentCache(cacheDir: string): Promise<ComponentCacheEntry[]> {
  const root = join(cacheDir, DIR);
  const names = await readdir(root).catch(() => [] as string[]);
  const entries: ComponentCacheEntry[] = [];
  for (const name of names) {
    if (!ENTRY.test(name)) continue;
    const dir = join(root, name);
    const manifest = await readManifest(dir);
    if (!manifest) continue; // not written by WasmForge: not ours to list or remove
    let size = 0;
    for (const file of [...Object.keys(manifest.files), "manifest.json"]) size += (await stat(join(dir, file)).catch(() => undefined))?.size ?? 0;
    const lastUsed = (await stat(join(dir, "manifest.json"))).mtime;
    entries.push({ dir, sha256: manifest.sha256, size, lastUsed, jcoTranspile: manifest.jcoTranspile });
  }
  return entries.sort((a, b) => b.lastUsed.getTime() - a.lastUsed.getTime());
}

/** Removes every recorded entry and every temp folder the cache left; nothing else. */
export async function clearComponentCache(cacheDir: string): Promise<{ removed: number; bytes: number }> {
  const entries = await listComponentCache(cacheDir);
  for (const entry of entries) await removeEntry(entry.dir);
  await removeTemps(cacheDir, () => true);
  await rmdir(join(cacheDir, DIR)).catch(() => undefined); // only once empty
  return { removed: entries.length, bytes: entries.reduce((n, e) => n + e.size, 0) };
}

/** Only the files the manifest lists, then the folder if that left it empty. */
async function removeEntry(dir: string): Promise<void> {
  const manifest = await readManifest(dir);
  if (!manifest) return;
  for (const file of Object.keys(manifest.files)) await rm(join(dir, file), { force: true });
  await rm(join(dir, "manifest.json"), { force: true });
  await rmdir(dir).catch(() => undefined);
}

/** Deletes least-recently-used entries until the transpiled forms fit; entries this process uses are kept. */
async function evict(cacheDir: string, maxBytes: number): Promise<void> {
  const dayAgo = Date.now() - 24 * 60 * 60 * 1000;
  await removeTemps(cacheDir, (mtimeMs) => mtimeMs < dayAgo);
  const entries = await listComponentCache(cacheDir);
  let total = entries.reduce((n, e) => n + e.size, 0);
  for (const entry of [...entries].reverse()) {
    if (total <= maxBytes) break;
    if (inUse.has(entry.dir)) continue;
    await removeEntry(entry.dir);
    total -= entry.size;
    log.info(`cache: evicted the transpiled component ${entry.sha256.slice(0, 12)} (${formatBytes(entry.size)}) to stay under [cache] max_size_mb`);
  }
}

/** Temp folders of this cache (by their name pattern) that `stale` picks. */
async function removeTemps(cacheDir: string, stale: (mtimeMs: number) => boolean): Promise<void> {
  const root = join(cacheDir, DIR);
  for (const name of await readdir(root).catch(() => [] as string[])) {
    if (!TEMP.test(name)) continue;
    const info = await stat(join(root, name)).catch(() => undefined);
    if (info?.isDirectory() && stale(info.mtimeMs)) await rm(join(root, name), { recursive: true, force: true });
  }
}
