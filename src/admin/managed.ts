// The modules uploaded through the admin API, at rest: their .wasm files in the managed directory
// and their [[modules]] tables in the managed TOML file beside the config, which the config loader
// merges in at every start and reload. Writes are atomic (temp file + rename) and one at a time.

import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { isAbsolute, relative, sep } from "node:path";
import { parse as parseToml, stringify } from "smol-toml";
import { ConfigError, parseConfig, type Config } from "../config/load.js";
import { serialQueue } from "../core/serial.js";
import type { ModuleTable } from "../config/wasimancer.js";

const HEADER =
  "# Modules uploaded through the wasmforge admin API (serve --http with an admin token), read like\n" +
  "# [[modules]] in the config. Change them with the API (PUT/DELETE /admin/modules/NAME): it rewrites\n" +
  "# this file, keeping hand edits but not comments.\n\n";

/** The stored file name: from the module's name and content, never from the request. */
export function storedName(name: string, sha256: string): string {
  return `${name}-${sha256.slice(0, 12)}.wasm`;
}

/** How the managed file refers to a stored module: relative to the config's directory when inside it. */
export function pathInConfig(config: Config, file: string): string {
  const rel = relative(config.dir, file);
  return rel.startsWith("..") || isAbsolute(rel) ? file : rel.split(sep).join("/");
}

/** The managed file's text, or undefined when it does not exist. */
export function readManagedText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * The managed file's tables as written (not with defaults filled in), after the config loader has
 * accepted the file as a whole: what the API rewrites is always what the loader reads.
 */
export function readManagedTables(config: Config, text: string | undefined): ModuleTable[] {
  if (text === undefined) return [];
  parseConfig(readFileSync(config.file, "utf8"), config.file, text);
  const data = parseToml(text) as { modules?: ModuleTable[] };
  return data.modules ?? [];
}

export function renderManaged(tables: ModuleTable[]): string {
  try {
    return HEADER + stringify({ modules: tables });
  } catch (err) {
    // JSON null and mixed-type values have no TOML form.
    throw new ConfigError(`the module definition cannot be stored as TOML: ${(err as Error).message}`);
  }
}

/** Writes through a temp file in the same directory and renames it over: readers see old or new, whole. */
export async function writeAtomic(file: string, text: string | Uint8Array): Promise<void> {
  const temp = `${file}.${randomUUID()}.tmp`;
  try {
    const handle = await open(temp, "wx");
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** Puts the managed file back as it was (`text` undefined: it did not exist). */
export async function restoreManaged(file: string, text: string | undefined): Promise<void> {
  if (text === undefined) await rm(file, { force: true });
  else await writeAtomic(file, text);
}

const queues = new Map<string, ReturnType<typeof serialQueue>>();

/** Runs changes to one managed file one after another. */
export function serialized<T>(file: string, change: () => Promise<T>): Promise<T> {
  let queue = queues.get(file);
  if (!queue) queues.set(file, (queue = serialQueue()));
  return queue(change);
}
