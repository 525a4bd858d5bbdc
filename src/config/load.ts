import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, extname, isAbsolute, join, resolve } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import type { z } from "zod";
import { formatKeyPath } from "../core/format.js";
import { formatReference, parseReference, type OciReference } from "../core/oci-reference.js";
import { configSchema, managedSchema, moduleEntry, type ClusterSettings, type RawModule, type ServerSettings, type ToolOverride } from "./schema.js";

export type ModuleSource =
  | { kind: "local"; path: string }
  | { kind: "http"; url: string; sha256?: string }
  | {
      kind: "oci";
      reference: OciReference;
      /** The module's own SHA-256, when pinned that way. */
      sha256?: string;
      /** Which key the config names it with: `url = "oci://…"` or `[modules.source] reference`; the pin advice quotes it. */
      key: "url" | "reference";
    };

/** A path, a URL or an `oci://` reference: where a module comes from, for messages. */
export function sourceOrigin(source: ModuleSource): string {
  if (source.kind === "local") return source.path;
  if (source.kind === "http") return source.url;
  return `oci://${formatReference(source.reference)}`;
}

export interface ModuleSpec {
  name: string;
  description?: string;
  source: ModuleSource;
  tools: ToolOverride[];
  timeoutMs: number;
  maxMemoryMb: number;
  state?: "fresh" | "keep";
  allowedHosts: string[];
  /** Host directory (absolute) → guest path. */
  allowedPaths: Record<string, string>;
  pluginConfig: Record<string, string>;
  /** Put before every tool name the module serves. */
  toolPrefix?: string;
  /** Regular expressions; tools whose whole name (before the prefix) matches one are not served. */
  hiddenTools: string[];
}

/** A `[[resources]]` entry: exactly one of `text` and `path` (absolute) is set. */
export interface ResourceSpec {
  name: string;
  uri: string;
  description?: string;
  mimeType?: string;
  text?: string;
  path?: string;
}

export interface ResourceTemplateSpec {
  name: string;
  uriTemplate: string;
  description?: string;
  mimeType?: string;
  /** With {{variable}} placeholders. */
  text: string;
}

export interface PromptSpec {
  name: string;
  description?: string;
  arguments: { name: string; description?: string; required: boolean }[];
  /** Texts with {{argument}} placeholders. */
  messages: { role: "user" | "assistant"; text: string }[];
}

export interface Config {
  file: string;
  dir: string;
  server: ServerSettings;
  cache: { directory: string; maxSizeMb?: number };
  cluster: ClusterSettings;
  /** The config's own modules, then the managed ones (uploaded through the admin API). */
  modules: ModuleSpec[];
  resources: ResourceSpec[];
  resourceTemplates: ResourceTemplateSpec[];
  prompts: PromptSpec[];
  managed: {
    /** The TOML file the admin API writes (it may not exist yet). */
    file: string;
    /** Where uploaded .wasm files are stored. */
    dir: string;
    /** Names of the modules that came from the managed file. */
    modules: string[];
  };
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Where `serve` looks for its config, in order; the first that exists wins. */
export function configCandidates(flag?: string, env: NodeJS.ProcessEnv = process.env): string[] {
  if (flag) return [resolve(flag)];
  if (env.WASMFORGE_CONFIG) return [resolve(env.WASMFORGE_CONFIG)];
  const xdg = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return [resolve("wasmforge.toml"), join(xdg, "wasmforge", "config.toml")];
}

export function findConfig(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  const candidates = configCandidates(flag, env);
  const found = candidates.find((file) => existsSync(file));
  if (!found) {
    const how = flag ? "--config" : env.WASMFORGE_CONFIG ? "WASMFORGE_CONFIG" : "the default locations";
    throw new ConfigError(
      `no config file found (looked at ${how}: ${candidates.join(", ")}). ` +
        "Create wasmforge.toml, or pass --config PATH (or set WASMFORGE_CONFIG).",
    );
  }
  return found;
}

/** The managed-modules file beside a config: wasmforge.toml → wasmforge.managed.toml. */
export function managedFileFor(configFile: string): string {
  const file = resolve(configFile);
  return join(dirname(file), `${basename(file, extname(file))}.managed.toml`);
}

/** Reads the config and, when it exists, the managed-modules file beside it. */
export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`${file}: cannot read config: ${(err as Error).message}`);
  }
  const managedFile = managedFileFor(file);
  let managed: string | undefined;
  try {
    managed = readFileSync(managedFile, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new ConfigError(`${managedFile}: cannot read the managed modules file: ${(err as Error).message}`);
    }
  }
  return parseConfig(text, file, managed);
}

/** `managed` is the text of the managed-modules file, whose modules come after the config's own. */
export function parseConfig(text: string, file: string, managed?: string): Config {
  const parsed = configSchema.safeParse(parseTomlText(text, file));
  if (!parsed.success) throw new ConfigError(formatIssues(file, parsed.error.issues));
  const raw = parsed.data;
  const dir = dirname(resolve(file));

  checkUnique(file, "prompts", raw.prompts.map((p) => p.name), "prompt name");
  checkUnique(file, "resources", raw.resources.map((r) => r.uri), "resource uri");
  checkUnique(file, "resource_templates", raw.resource_templates.map((t) => t.uri_template), "uri_template");

  const managedFile = managedFileFor(file);
  const managedModules = managed === undefined ? [] : parseManaged(managed, managedFile);
  checkModuleNames([
    ...raw.modules.map((m, i) => ({ name: m.name, file, index: i })),
    ...managedModules.map((m, i) => ({ name: m.name, file: managedFile, index: i })),
  ]);

  const xdgCache = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return {
    file: resolve(file),
    dir,
    server: raw.server,
    cache: {
      directory: raw.cache.directory ? resolve(dir, raw.cache.directory) : join(xdgCache, "wasmforge"),
      maxSizeMb: raw.cache.max_size_mb,
    },
    cluster: raw.cluster,
    modules: [...raw.modules, ...managedModules].filter((m) => m.enabled).map((m) => toModuleSpec(m, dir, raw.server)),
    resources: raw.resources.map((r) => ({
      name: r.name,
      uri: r.uri,
      description: r.description,
      mimeType: r.mime_type,
      text: r.text,
      path: r.path === undefined ? undefined : resolve(dir, r.path),
    })),
    resourceTemplates: raw.resource_templates.map((t) => ({
      name: t.name,
      uriTemplate: t.uri_template,
      description: t.description,
      mimeType: t.mime_type,
      text: t.text,
    })),
    prompts: raw.prompts,
    managed: {
      file: managedFile,
      dir: raw.server.managed_dir ? resolve(dir, raw.server.managed_dir) : join(dir, ".wasmforge-managed"),
      modules: managedModules.map((m) => m.name),
    },
  };
}

function parseTomlText(text: string, file: string): unknown {
  try {
    return parseToml(text);
  } catch (err) {
    if (err instanceof TomlError) {
      const reason = err.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
      throw new ConfigError(`${file}:${err.line}:${err.column}: TOML syntax error: ${reason}`);
    }
    throw err;
  }
}

/** The managed file's modules; paths in it are relative to the config's directory, like the config's. */
function parseManaged(text: string, managedFile: string): RawModule[] {
  const parsed = managedSchema.safeParse(parseTomlText(text, managedFile));
  if (!parsed.success) throw new ConfigError(formatIssues(managedFile, parsed.error.issues));
  return parsed.data.modules;
}

/** Module names are unique across the config and the managed file; the error names both places. */
function checkModuleNames(entries: { name: string; file: string; index: number }[]): void {
  const seen = new Map<string, { file: string; index: number }>();
  for (const entry of entries) {
    const first = seen.get(entry.name);
    if (!first) {
      seen.set(entry.name, entry);
      continue;
    }
    if (first.file === entry.file) {
      throw new ConfigError(`${entry.file}: modules[${entry.index}].name: module name "${entry.name}" is used twice; module names must be unique`);
    }
    throw new ConfigError(
      `module name "${entry.name}" is defined in both ${first.file} (modules[${first.index}]) and ${entry.file} (modules[${entry.index}]); ` +
        `rename one, or remove the managed one (DELETE /admin/modules/${entry.name})`,
    );
  }
}

/** A module as a config entry with nothing but a name and a path would give it (every default). */
export function defaultModuleSpec(name: string, path: string): ModuleSpec {
  const dir = dirname(path);
  return toModuleSpec(moduleEntry.parse({ name, path }), dir, configSchema.parse({}).server);
}

function checkUnique(file: string, table: string, keys: string[], what: string): void {
  const seen = new Set<string>();
  for (const [i, key] of keys.entries()) {
    if (seen.has(key)) throw new ConfigError(`${file}: ${table}[${i}]: ${what} "${key}" is used twice; each must be unique`);
    seen.add(key);
  }
}

function toModuleSpec(m: RawModule, dir: string, server: ServerSettings): ModuleSpec {
  return {
    name: m.name,
    description: m.description,
    source: toSource(m, dir),
    tools: m.tools,
    timeoutMs: m.timeout_ms ?? server.timeout_ms,
    maxMemoryMb: m.max_memory_mb ?? server.max_memory_mb,
    state: m.state,
    allowedHosts: m.allowed_hosts,
    allowedPaths: Object.fromEntries(Object.entries(m.allowed_paths).map(([host, guest]) => [resolve(dir, host), guest])),
    pluginConfig: m.config,
    toolPrefix: m.tool_prefix,
    hiddenTools: m.hidden_tools,
  };
}

function toSource(m: RawModule, dir: string): ModuleSource {
  const local = (path: string): ModuleSource => ({ kind: "local", path: isAbsolute(path) ? path : resolve(dir, path) });
  if (m.source?.type === "local") return local(m.source.path);
  if (m.source?.type === "http") return { kind: "http", url: m.source.url, sha256: m.source.sha256 ?? m.source.checksum };
  if (m.source?.type === "oci") return { kind: "oci", reference: parseReference(m.source.reference), sha256: m.source.sha256, key: "reference" };
  if (m.path) return local(m.path);
  const url = m.url!;
  if (url.startsWith("oci://")) return { kind: "oci", reference: parseReference(url), sha256: m.sha256 ?? m.checksum, key: "url" };
  return { kind: "http", url, sha256: m.sha256 ?? m.checksum };
}

function formatIssues(file: string, issues: z.core.$ZodIssue[]): string {
  const lines = issues.map((issue) => {
    if (issue.code === "unrecognized_keys") {
      const where = issue.path.length ? `${formatKeyPath(issue.path)}: ` : "";
      return `${where}unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")} (check the spelling; see the config reference in the README)`;
    }
    const message = issue.message.replace(/^Invalid input: /, "");
    return `${formatKeyPath(issue.path)}: ${message}`;
  });
  return `${file}: invalid config:\n  ${lines.join("\n  ")}`;
}
