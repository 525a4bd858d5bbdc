// Changes to the managed set, each all-or-nothing: check the resulting config and the module,
// store both, reload the host (every session gets tools/list_changed; calls in flight finish on
// the version they started on; a removed module's instances are freed), and put everything back
// if the reload does not take the change.

import { readFileSync } from "node:fs";
import { readFile, rename, rm, stat } from "node:fs/promises";
import { basename, isAbsolute, join, relative, resolve } from "node:path";
import { ConfigError, parseConfig, type Config } from "../config/load.js";
import { hideUnlisted, type ModuleTable } from "../config/wasimancer.js";
import { discoverTools } from "../discovery/index.js";
import { readWasmInfo, type WasmInfo } from "../wasm/reader.js";
import { log } from "../core/log.js";
import type { ToolHost } from "../server/host.js";
import { pathInConfig, renderManaged, serialized, storedName } from "./managed.js";
import type { ManagedStore, Snapshot } from "./store.js";
import type { ReceivedFile } from "./multipart.js";
import { checkModule, ValidationError } from "./validate.js";

/** A refused or failed operation, with the HTTP status that says which. */
export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface ModuleReport {
  name: string;
  /** Uploaded through the admin API (else: from the config file). */
  managed: boolean;
  description?: string;
  origin: string;
  sha256: string;
  /** The tools served from it right now. */
  tools: string[];
}

export interface PutRequest {
  name: string;
  /** The module's table, without a path; absent (replace only): keep the stored definition. */
  table?: ModuleTable;
  mode: "create" | "replace";
  /** The received bytes, in a temp file in the managed directory; absent: keep the stored bytes. */
  upload?: ReceivedFile;
  /** WASImancer's rule: serve only the functions the definition lists. */
  onlyListed?: boolean;
}

export function listModules(host: ToolHost): { modules: ModuleReport[]; failures: { module: string; error: string }[] } {
  const { modules, tools, failures } = host.current;
  return {
    modules: modules.map((m) => ({
      name: m.spec.name,
      managed: host.config.managed.modules.includes(m.spec.name),
      ...(m.spec.description ? { description: m.spec.description } : {}),
      origin: m.origin,
      sha256: m.sha256,
      tools: [...tools.values()].filter((t) => t.module.spec.name === m.spec.name).map((t) => t.tool.name),
    })),
    failures: failures.map((f) => ({ module: f.module, error: f.error })),
  };
}

export function putModule(host: ToolHost, store: ManagedStore, request: PutRequest): Promise<ModuleReport> {
  return serialized(host.config.managed.file, async () => {
    const config = host.config;
    const name = request.name;
    const before = await currentTables(config, store);
    const { tables } = before;
    const index = tables.findIndex((t) => t.name === name);
    if (index < 0) refuseConfigModule(config, name);
    if (request.mode === "create" && index >= 0) {
      throw new AdminError(409, `module "${name}" already exists; replace it with PUT /admin/modules/${name}`);
    }
    if (request.mode === "replace" && index < 0) {
      throw new AdminError(404, `there is no uploaded module "${name}"; upload it with POST /admin/modules`);
    }
    const previous = index >= 0 ? tables[index]! : undefined;
    const definition = request.table ?? previous;
    if (!definition) throw new AdminError(400, 'the module\'s definition is required (form field "module")');

    let stored: string;
    let created = false;
    if (request.upload) {
      stored = join(config.managed.dir, storedName(name, request.upload.sha256));
      created = await moveInto(request.upload.path, stored);
    } else if (previous?.path) {
      stored = resolve(config.dir, previous.path);
    } else {
      throw new AdminError(400, "send the module file (form field \"wasm\")");
    }

    try {
      const { name: _name, path: _path, description, ...rest } = definition;
      const table: ModuleTable = { name, ...(description !== undefined ? { description } : {}), path: pathInConfig(config, stored), ...rest };
      const next = index >= 0 ? tables.map((t, i) => (i === index ? table : t)) : [...tables, table];
      let candidate = dryRun(config, next);
      if (request.onlyListed && (await hideOthers(candidate, table, stored))) candidate = dryRun(config, next);
      await check(candidate, name, host);
      await store.write(config, next, before);
      await reloadOrUndo(host, store, name, before);
      if (previous?.path) await removeStored(config, resolve(config.dir, previous.path), next);
      log.info(`admin: module "${name}" ${request.mode === "create" ? "added" : "replaced"} (${basename(stored)})`);
    } catch (err) {
      if (created) await rm(stored, { force: true });
      throw err;
    }
    return report(host, name);
  });
}

export function removeModule(host: ToolHost, store: ManagedStore, name: string): Promise<void> {
  return serialized(host.config.managed.file, async () => {
    const config = host.config;
    const before = await currentTables(config, store);
    const { tables } = before;
    const index = tables.findIndex((t) => t.name === name);
    if (index < 0) {
      refuseConfigModule(config, name);
      throw new AdminError(404, `there is no uploaded module "${name}"`);
    }
    const next = tables.filter((_, i) => i !== index);
    dryRun(config, next);
    await store.write(config, next, before);
    await reloadOrUndo(host, store, undefined, before);
    const path = tables[index]!.path;
    if (path) await removeStored(config, resolve(config.dir, path), next);
    log.info(`admin: module "${name}" removed`);
  });
}

async function currentTables(config: Config, store: ManagedStore): Promise<Snapshot> {
  const unavailable = store.unavailable();
  if (unavailable) throw new AdminError(503, `nothing was changed: ${unavailable}`, { "retry-after": "5" });
  try {
    return await store.read(config);
  } catch (err) {
    if (err instanceof ConfigError) throw new AdminError(500, `nothing was changed: the config is invalid right now (fix it first): ${err.message}`);
    if (err instanceof AdminError) throw err;
    throw new AdminError(503, `nothing was changed: the managed modules could not be read: ${(err as Error).message}`, { "retry-after": "5" });
  }
}

function refuseConfigModule(config: Config, name: string): void {
  if (config.modules.some((m) => m.name === name)) {
    throw new AdminError(409, `module "${name}" is defined in ${config.file}, not uploaded; change it there`);
  }
}

/** The config as it would be loaded with these managed tables. */
function dryRun(config: Config, tables: ModuleTable[]): Config {
  try {
    return parseConfig(readFileSync(config.file, "utf8"), config.file, renderManaged(tables));
  } catch (err) {
    if (err instanceof ConfigError) throw new AdminError(400, err.message);
    throw err;
  }
}

async function check(candidate: Config, name: string, host: ToolHost): Promise<void> {
  try {
    await checkModule(candidate, name, host.current);
  } catch (err) {
    if (err instanceof ValidationError) throw new AdminError(400, err.message);
    throw err;
  }
}

/** Adds hidden entries for the exports the table does not list; true when it added any. */
async function hideOthers(candidate: Config, table: ModuleTable, stored: string): Promise<boolean> {
  const spec = candidate.modules.find((m) => m.name === table.name);
  let info: WasmInfo;
  try {
    info = readWasmInfo(new Uint8Array(await readFile(stored)));
  } catch {
    return false; // not wasm: checkModule says so
  }
  if (!spec) return false;
  const discovery = discoverTools(spec, info);
  if (discovery.interface) return false;
  return hideUnlisted(table, discovery.tools.map((t) => t.function)).length > 0;
}

/** Moves the upload to its stored name; false when that file was already there (same name, same bytes). */
async function moveInto(temp: string, stored: string): Promise<boolean> {
  const exists = await stat(stored).then(
    () => true,
    () => false,
  );
  if (exists) {
    await rm(temp, { force: true });
    return false;
  }
  await rename(temp, stored);
  return true;
}

/** Reloads; if the change did not take (or the reload failed), puts the managed set back and reloads again. */
async function reloadOrUndo(host: ToolHost, store: ManagedStore, name: string | undefined, before: Snapshot): Promise<void> {
  try {
    const { failures } = await host.reload();
    const failure = failures.find((f) => f.module === name);
    if (failure) throw new Error(failure.error);
  } catch (err) {
    await store.undo(host.config, before);
    await host.reload().catch((again: Error) => log.error(`admin: reload after undoing a change failed: ${again.message}`));
    throw new AdminError(500, `the server did not take the change, so it was undone: ${(err as Error).message}`);
  }
}

/** Deletes a stored module file no table refers to any more; only ever inside the managed directory. */
async function removeStored(config: Config, file: string, tables: ModuleTable[]): Promise<void> {
  const rel = relative(config.managed.dir, file);
  if (rel.startsWith("..") || isAbsolute(rel)) return;
  if (tables.some((t) => t.path && resolve(config.dir, t.path) === file)) return;
  await rm(file, { force: true });
}

function report(host: ToolHost, name: string): ModuleReport {
  const entry = listModules(host).modules.find((m) => m.name === name);
  if (!entry) throw new AdminError(500, `module "${name}" was stored but is not served; see the server log`);
  return entry;
}
