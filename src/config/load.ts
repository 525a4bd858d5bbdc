import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import type { z } from "zod";
import { configSchema, type RawModule, type ServerSettings, type ToolOverride } from "./schema.js";

export type ModuleSource =
  | { kind: "local"; path: string }
  | { kind: "http"; url: string; sha256?: string };

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
}

export interface Config {
  file: string;
  dir: string;
  server: ServerSettings;
  cache: { directory: string; maxSizeMb?: number };
  modules: ModuleSpec[];
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

export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`${file}: cannot read config: ${(err as Error).message}`);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file: string): Config {
  let data: unknown;
  try {
    data = parseToml(text);
  } catch (err) {
    if (err instanceof TomlError) {
      const reason = err.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
      throw new ConfigError(`${file}:${err.line}:${err.column}: TOML syntax error: ${reason}`);
    }
    throw err;
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) throw new ConfigError(formatIssues(file, parsed.error.issues));
  const raw = parsed.data;
  const dir = dirname(resolve(file));

  const names = new Set<string>();
  for (const [i, m] of raw.modules.entries()) {
    if (names.has(m.name)) {
      throw new ConfigError(`${file}: modules[${i}].name: module name "${m.name}" is used twice; module names must be unique`);
    }
    names.add(m.name);
  }

  const xdgCache = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return {
    file: resolve(file),
    dir,
    server: raw.server,
    cache: {
      directory: raw.cache.directory ? resolve(dir, raw.cache.directory) : join(xdgCache, "wasmforge"),
      maxSizeMb: raw.cache.max_size_mb,
    },
    modules: raw.modules.filter((m) => m.enabled).map((m) => toModuleSpec(m, dir, raw.server)),
  };
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
  };
}

function toSource(m: RawModule, dir: string): ModuleSource {
  const local = (path: string): ModuleSource => ({ kind: "local", path: isAbsolute(path) ? path : resolve(dir, path) });
  if (m.source?.type === "local") return local(m.source.path);
  if (m.source?.type === "http") return { kind: "http", url: m.source.url, sha256: m.source.sha256 ?? m.source.checksum };
  if (m.path) return local(m.path);
  return { kind: "http", url: m.url!, sha256: m.sha256 ?? m.checksum };
}

export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || "(top level)";
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
