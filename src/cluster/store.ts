// The managed set (modules uploaded through the admin API) kept once, in Redis, for every replica:
//   <ns>:managed        hash { version, state }: state is JSON, each module's table (without a
//                       path: paths are each replica's own) and the SHA-256 of its bytes;
//   <ns>:module:<sha>   the bytes, content-addressed, stored before any state names them;
//   <ns>:changes        channel: the new version, published in the same script that writes it.
// A change is one compare-and-set on the version (a Lua script, so Redis applies it whole or not
// at all); every replica then applies the version it hears of: fetches the bytes it lacks into its
// managed directory, writes its own managed TOML file and reloads. A replica that missed messages
// (started, or reconnected) compares versions and catches up.

import { existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import type { Config } from "../config/load.js";
import type { ModuleTable } from "../config/wasimancer.js";
import { sha256Hex } from "../core/hash.js";
import { log } from "../core/log.js";
import { pathInConfig, readManagedTables, readManagedText, renderManaged, serialized, storedName, writeAtomic } from "../admin/managed.js";
import { AdminError } from "../admin/operations.js";
import type { ManagedStore, Snapshot } from "../admin/store.js";
import type { ToolHost } from "../server/host.js";
import type { Connections } from "./redis.js";

interface StoredModule {
  /** The module's table as the admin API wrote it, without `path`. */
  table: ModuleTable;
  /** Its bytes, at <ns>:module:<sha256>; absent for a table that names no local file. */
  sha256?: string;
}

interface State {
  version: number;
  modules: StoredModule[];
  /** Identifies this state even across a Redis that lost its data and counts versions from 0 again. */
  digest: string;
  /** False when Redis holds no managed set at all (never written, or its data was lost). */
  exists: boolean;
}

/** KEYS: the managed hash, the changes channel. ARGV: the version read, the new state, then byte keys no longer named. */
const COMPARE_AND_SET = `
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then return -1 end
local version = current + 1
redis.call('HSET', KEYS[1], 'version', version, 'state', ARGV[2])
for i = 3, #ARGV do redis.call('DEL', ARGV[i]) end
redis.call('PUBLISH', KEYS[2], version)
return version`;

export interface ClusterStore extends ManagedStore {
  /** Applies what Redis holds now, if this replica is behind; true when it is caught up. */
  catchUp(config: Config): Promise<boolean>;
  /** From now on, changes applied here reload this host. */
  attach(host: ToolHost): void;
  /** Caught up with Redis at least once since start, and not behind a version it has heard of. */
  caughtUp(): boolean;
  /** The version this replica serves. */
  version(): number;
}

export function clusterStore(redis: Connections, namespace: string): ClusterStore {
  const keys = {
    managed: `${namespace}:managed`,
    changes: `${namespace}:changes`,
    module: (sha256: string) => `${namespace}:module:${sha256}`,
  };
  /** The state this replica serves; undefined until it first caught up. */
  let applied: State | undefined;
  /** Its tables, as this replica's managed file names them. */
  let appliedTables: ModuleTable[] = [];
  /** Stored files this process wrote or checked, with their hash: not read and hashed again at every change. */
  const verified = new Map<string, string>();
  /** A change was announced that this replica has not applied yet. */
  let behind = false;
  let host: ToolHost | undefined;
  let config: Config | undefined;

  const readState = async (): Promise<State> => {
    const [version, state] = await redis.commands.hmGet(keys.managed, ["version", "state"]);
    if (version == null || state == null) return { version: 0, modules: [], digest: "", exists: false };
    const parsed = JSON.parse(state) as { modules: StoredModule[] };
    return { version: Number(version), modules: parsed.modules, digest: sha256Hex(`${version}\n${state}`), exists: true };
  };

  /** The tables as this replica's managed file names them, fetching the bytes it does not have yet. */
  const materialize = async (config: Config, state: State): Promise<ModuleTable[]> => {
    await mkdir(config.managed.dir, { recursive: true });
    const tables: ModuleTable[] = [];
    for (const { table, sha256 } of state.modules) {
      if (sha256 === undefined) {
        tables.push(table);
        continue;
      }
      const file = join(config.managed.dir, storedName(table.name, sha256));
      if (!(verified.get(file) === sha256 && existsSync(file)) && !(await holds(file, sha256))) {
        const bytes = await redis.bytes.get(keys.module(sha256));
        if (!bytes) throw new Error(`the bytes of module "${table.name}" (sha256 ${sha256}) are not in Redis (a newer change removed them?)`);
        if (sha256Hex(bytes) !== sha256) throw new Error(`the bytes of module "${table.name}" in Redis do not match their sha256 ${sha256}`);
        await writeAtomic(file, bytes);
      }
      verified.set(file, sha256);
      const { name, description, ...rest } = table;
      tables.push({ name, ...(description !== undefined ? { description } : {}), path: pathInConfig(config, file), ...rest });
    }
    return tables;
  };

  /** Makes `tables` this replica's managed file, then deletes the stored files only the old one named. */
  const writeLocal = async (config: Config, tables: ModuleTable[]): Promise<void> => {
    const before = readManagedText(config.managed.file);
    const text = renderManaged(tables);
    if (text === before) return;
    await writeAtomic(config.managed.file, text);
    const named = new Set(tables.flatMap((t) => (t.path ? [resolve(config.dir, t.path)] : [])));
    for (const stale of storedFiles(config, before)) if (!named.has(stale)) await rm(stale, { force: true });
  };

  /** Applies the state Redis holds, unless this replica serves it already. Not serialized. */
  const applyNow = async (at: Config): Promise<void> => {
    behind = false;
    let state = await readState();
    if (!state.exists) state = await seed(at, state);
    if (state.digest === applied?.digest) return;
    const tables = await materialize(at, state);
    await writeLocal(at, tables);
    applied = state;
    appliedTables = tables;
    if (host) {
      const { failures } = await host.reload();
      const names = new Set(state.modules.map((m) => m.table.name));
      for (const f of failures) if (names.has(f.module)) log.warn(`cluster: module "${f.module}" of version ${state.version} did not load here: ${f.error}`);
    }
    log.info(`cluster: serving managed version ${state.version} (${state.modules.length} module${state.modules.length === 1 ? "" : "s"}: ${state.modules.map((m) => m.table.name).join(", ") || "none"})`);
  };

  /**
   * Redis holds no managed set (a new Redis, or one that lost its data): this replica's own managed
   * modules become the cluster's, unless another replica stored its set first.
   */
  const seed = async (at: Config, empty: State): Promise<State> => {
    const tables = readManagedTables(at, readManagedText(at.managed.file));
    if (tables.length === 0) return empty;
    try {
      await compareAndSet(at, tables, 0, []);
      log.info(`cluster: Redis held no managed modules; stored this replica's ${tables.length} (${tables.map((t) => t.name).join(", ")})`);
    } catch (err) {
      if (!(err instanceof AdminError)) throw err;
    }
    return readState();
  };

  const catchUp = (at: Config): Promise<boolean> =>
    serialized(at.managed.file, async () => {
      if (!redis.ready()) return false;
      try {
        await applyNow(host?.config ?? at);
        return true;
      } catch (err) {
        log.error(`cluster: could not apply the managed modules from Redis: ${(err as Error).message}`);
        return false;
      }
    });

  // A change published by any replica (this one included: it is then applied already).
  let pending: Promise<boolean> | undefined;
  let again = false;
  const onChange = (message: string) => {
    if (Number(message) !== applied?.version) behind = true;
    if (!config) return;
    if (pending) {
      again = true;
      return;
    }
    const run = async (): Promise<boolean> => {
      const ok = await catchUp(config!);
      if (again) {
        again = false;
        return run();
      }
      return ok;
    };
    pending = run().finally(() => (pending = undefined));
  };
  void redis.subscriber.subscribe(keys.changes, onChange).catch(() => undefined);
  // Messages sent while the subscriber was away are gone: compare versions instead.
  redis.onReconnect(() => onChange("0"));

  /** Each table with the hash of its file (read and hashed only when this process has not checked it), and where each hash's bytes are. */
  const entries = async (config: Config, tables: ModuleTable[]): Promise<{ modules: StoredModule[]; files: Map<string, string> }> => {
    const files = new Map<string, string>();
    const modules: StoredModule[] = [];
    for (const table of tables) {
      const { path, ...rest } = table;
      if (!path) {
        modules.push({ table: rest as ModuleTable });
        continue;
      }
      const file = resolve(config.dir, path);
      const sha256 = verified.get(file) ?? sha256Hex(new Uint8Array(await readFile(file)));
      verified.set(file, sha256);
      files.set(sha256, file);
      modules.push({ table: rest as ModuleTable, sha256 });
    }
    return { modules, files };
  };

  /** Stores `tables` as the version after `from`: the state written, or AdminError 409 when another replica changed it first. */
  const compareAndSet = async (config: Config, tables: ModuleTable[], from: number, previous: StoredModule[]): Promise<State> => {
    const { modules, files } = await entries(config, tables);
    for (const [sha256, file] of files) {
      // Bytes first: no state ever names bytes that are not there.
      if (!(await redis.commands.exists(keys.module(sha256)))) await redis.commands.set(keys.module(sha256), await readFile(file));
    }
    const unnamed = [...new Set(previous.flatMap((m) => (m.sha256 && !files.has(m.sha256) ? [keys.module(m.sha256)] : [])))];
    const json = JSON.stringify({ modules });
    const version = Number(await redis.commands.eval(COMPARE_AND_SET, { keys: [keys.managed, keys.changes], arguments: [String(from), json, ...unnamed] }));
    if (version < 0) throw new AdminError(409, "nothing was changed: another replica changed the managed modules at the same moment; read them again and retry");
    return { version, modules, digest: sha256Hex(`${version}\n${json}`), exists: true };
  };

  const unavailable = () => (redis.ready() ? undefined : (redis.lastError() ?? "Redis is not connected"));

  return {
    async read(at) {
      // Called inside the admin API's serialized change (which checked unavailable() first): apply
      // what Redis has, so the change is made to the current set and every file it names is here.
      await applyNow(at);
      return { tables: appliedTables, mark: applied };
    },
    async write(at, tables, from) {
      // Redis may have gone away since the read.
      const why = unavailable();
      if (why) throw new AdminError(503, `nothing was changed: ${why}`, { "retry-after": "5" });
      const before = from.mark as State;
      const written = await compareAndSet(at, tables, before.version, before.modules);
      await writeLocal(at, tables);
      applied = written;
      appliedTables = tables;
    },
    async undo(at, to: Snapshot) {
      try {
        const current = await readState();
        const written = await compareAndSet(at, to.tables, current.version, current.modules);
        await writeLocal(at, to.tables);
        applied = written;
        appliedTables = to.tables;
      } catch (err) {
        log.error(`cluster: could not undo the change in Redis (${(err as Error).message}); applying what Redis holds`);
        applied = undefined;
        await applyNow(at).catch(() => undefined);
      }
    },
    unavailable,
    catchUp: (at) => {
      config ??= at;
      return catchUp(at);
    },
    attach(served) {
      host = served;
      config = served.config;
      // A change made while the host was starting was heard with nothing to apply it to.
      onChange("0");
    },
    caughtUp: () => applied !== undefined && !behind,
    version: () => applied?.version ?? 0,
  };
}

/** Whether `file` exists and holds bytes with this hash. */
async function holds(file: string, sha256: string): Promise<boolean> {
  if (!existsSync(file)) return false;
  return sha256Hex(new Uint8Array(await readFile(file))) === sha256;
}

/** The stored module files a managed file names: only those in the managed directory, which WasmForge wrote. */
function storedFiles(config: Config, text: string | undefined): string[] {
  if (text === undefined) return [];
  let tables: ModuleTable[];
  try {
    tables = (parseToml(text) as { modules?: ModuleTable[] }).modules ?? [];
  } catch {
    return [];
  }
  return tables.flatMap((t) => {
    if (!t.path) return [];
    const file = resolve(config.dir, t.path);
    const rel = relative(config.managed.dir, file);
    return rel.startsWith("..") || isAbsolute(rel) ? [] : [file];
  });
}
