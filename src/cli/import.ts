// `wasmforge import`: another MCP WebAssembly server's config as WasmForge TOML on stdout, checked
// by the config loader before it is printed: a hyper-mcp config (JSON, YAML or TOML), or a
// WASImancer project's plugins.yml (and resources.yml, prompts.yml). Which one a file is comes from
// its content. What could not be carried over exactly is said on stderr.

import { readFileSync } from "node:fs";
import { dirname, extname, join, relative, resolve, sep } from "node:path";
import { parse as parseToml, stringify, TomlError } from "smol-toml";
import { parse as parseYaml, YAMLParseError } from "yaml";
import type { z } from "zod";
import { convertHyperMcp, hyperMcpSchema } from "../config/hyper-mcp.js";
import { ConfigError, parseConfig, type Config, type ModuleSpec } from "../config/load.js";
import { formatKeyPath } from "../core/format.js";
import {
  convertPrompts,
  convertResources,
  hideUnlisted,
  pluginsFile,
  pluginToModule,
  promptsFile,
  resourcesFile,
  type ModuleTable,
} from "../config/wasimancer.js";
import { EXTISM_NAMESPACE } from "../discovery/extism.js";
import { discoverTools } from "../discovery/index.js";
import type { Discovery } from "../discovery/types.js";
import { readWasmInfo, type WasmInfo } from "../wasm/reader.js";
import { log } from "../core/log.js";

export interface ImportOptions {
  resources?: string;
  prompts?: string;
  /** The directory the TOML will be saved in: module paths are written relative to it. */
  base?: string;
}

class ImportError extends Error {}

const WASIMANCER_HEADER =
  "# Converted from WASImancer by `wasmforge import`.\n" +
  "# Module paths are relative to the directory this file is meant for (--base, default: the current directory).\n\n";

const HYPER_MCP_HEADER =
  "# Converted from hyper-mcp by `wasmforge import`.\n" +
  "# tool_prefix keeps hyper-mcp's tool names (<plugin>-<tool>). Unpinned oci:// and https:// modules are refused\n" +
  "# until pinned: `wasmforge fetch` prints the line that pins each.\n\n";

export type ImportFormat = "hyper-mcp" | "wasimancer";

export async function importConfig(file: string | undefined, options: ImportOptions): Promise<number> {
  try {
    const data = file === undefined ? undefined : readData(file);
    const format = file === undefined ? "wasimancer" : formatOf(data);
    if (!format) {
      throw new ImportError(
        `${file}: not a config \`wasmforge import\` knows. Expected a hyper-mcp config (plugins: { NAME: { url: … } }, or a list of { name, url }) ` +
          "or a WASImancer plugins.yml (plugins: [{ name, path, functions }])",
      );
    }
    if (format === "hyper-mcp") {
      if (options.resources || options.prompts) throw new ImportError("--resources and --prompts belong to WASImancer projects; a hyper-mcp config has only plugins");
      return importHyperMcp(file!, data);
    }
    return importWasimancer(file, data, options);
  } catch (err) {
    if (err instanceof ImportError || err instanceof ConfigError) {
      log.error(err.message);
      return 1;
    }
    throw err;
  }
}

/**
 * hyper-mcp configs keep `plugins` in a map (or, in older ones, a list of entries with a `url`);
 * WASImancer's plugins.yml lists entries with `functions`.
 */
export function formatOf(data: unknown): ImportFormat | undefined {
  const plugins = (data as { plugins?: unknown } | null)?.plugins;
  if (plugins && typeof plugins === "object" && !Array.isArray(plugins)) return "hyper-mcp";
  if (!Array.isArray(plugins)) return undefined;
  const entries = plugins.filter((p): p is Record<string, unknown> => !!p && typeof p === "object");
  if (entries.some((p) => "functions" in p)) return "wasimancer";
  const located = (p: Record<string, unknown>) => "url" in p || "runtime_config" in p || /^[a-z][a-z0-9+.-]*:\/\//i.test(String(p.path ?? ""));
  return entries.length > 0 && entries.every(located) ? "hyper-mcp" : "wasimancer";
}

function importHyperMcp(file: string, data: unknown): number {
  const converted = convertHyperMcp(checked(file, data, hyperMcpSchema(data), "a hyper-mcp config"));
  const text = render({ modules: converted.value }, HYPER_MCP_HEADER);
  parse(text, resolve("."));
  for (const note of converted.notes) log.warn(`${file}: ${note}`);
  process.stdout.write(text);
  return 0;
}

function importWasimancer(plugins: string | undefined, data: unknown, options: ImportOptions): number {
  if (!plugins && !options.resources && !options.prompts) {
    log.error("nothing to import: give a hyper-mcp config or a WASImancer plugins.yml, and/or --resources resources.yml, --prompts prompts.yml");
    return 1;
  }
  const base = resolve(options.base ?? ".");
  const notes: string[] = [];
  const tables: Record<string, unknown[]> = {};
  if (plugins) tables.modules = convertPlugins(plugins, checked(plugins, data, pluginsFile, "a WASImancer plugins.yml"), base, notes);
  if (options.resources) {
    const converted = convertResources(readYaml(options.resources, resourcesFile));
    notes.push(...converted.notes.map((n) => `${options.resources}: ${n}`));
    tables.resources = converted.value.resources;
    tables.resource_templates = converted.value.resource_templates;
  }
  if (options.prompts) {
    tables.prompts = wrap(options.prompts, () => convertPrompts(readYaml(options.prompts!, promptsFile)).value);
  }
  const text = render(tables, WASIMANCER_HEADER);
  if (tables.modules?.length) hideUnlistedExports(tables.modules as ModuleTable[], parse(text, base), notes);
  const final = render(tables, WASIMANCER_HEADER);
  parse(final, base);
  for (const note of notes) log.warn(note);
  process.stdout.write(final);
  return 0;
}

function convertPlugins(file: string, data: z.infer<typeof pluginsFile>, base: string, notes: string[]): ModuleTable[] {
  const dir = dirname(resolve(file));
  // WASImancer passes its WASM_* environment variables to every plugin as config.
  const environment = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => /^WASM_/.test(e[0]) && e[1] !== undefined));
  const carried = Object.keys(environment);
  if (carried.length > 0 && data.plugins.length > 0) {
    notes.push(`${file}: carried ${carried.join(", ")} from the environment into every module's config, as WASImancer passes WASM_* variables to its plugins`);
  }
  return data.plugins.map((plugin, i) => {
    if (!plugin.path) throw new ImportError(`${file}: plugins[${i}].path: required (where the .wasm file is)`);
    const converted = pluginToModule(plugin);
    notes.push(...converted.notes.map((n) => `${file}: ${n}`));
    const { name, description, ...rest } = converted.value;
    // WASImancer joins the path to its plugins directory, even one starting with "/".
    const wasm = resolve(dir, plugin.path.replace(/^\/+/, ""));
    const config = carried.length > 0 ? { config: { ...environment, ...(rest.config as Record<string, string> | undefined) } } : {};
    return { name, ...(description ? { description } : {}), path: relative(base, wasm).split(sep).join("/"), ...rest, ...config };
  });
}

/**
 * What can be learned from each converted module's bytes, for the modules whose file can be read:
 * WASImancer serves only the listed functions, so the others are hidden; and where a module makes
 * HTTP requests or reads WASM_* config keys that nothing sets now, the note says what to add.
 */
function hideUnlistedExports(modules: ModuleTable[], config: Config, notes: string[]): void {
  for (const table of modules) {
    const spec = config.modules.find((m) => m.name === table.name);
    if (!spec || spec.source.kind !== "local") continue;
    let discovered: Discovery;
    let bytes: Uint8Array;
    let info: WasmInfo;
    try {
      bytes = new Uint8Array(readFileSync(spec.source.path));
      info = readWasmInfo(bytes);
      discovered = discoverTools(spec, info);
    } catch (err) {
      notes.push(
        `module "${table.name}": could not read ${spec.source.path} (${(err as Error).message}), so exports its plugins.yml entry ` +
          "does not list are not hidden; run `wasmforge tools` once the file is in place to see what it serves",
      );
      continue;
    }
    notes.push(...needsFromBytes(table, spec, bytes, info));
    if (discovered.interface) continue;
    const hidden = hideUnlisted(table, discovered.tools.map((t) => t.function));
    if (hidden.length) notes.push(`module "${table.name}": hid exports plugins.yml does not list: ${hidden.join(", ")}`);
  }
}

/** Hosts a module names in its code and WASM_* config keys it reads, when its config does not grant them. */
function needsFromBytes(table: ModuleTable, spec: ModuleSpec, bytes: Uint8Array, info: WasmInfo): string[] {
  const notes: string[] = [];
  const text = Buffer.from(bytes).toString("latin1");
  const makesRequests = info.imports.some((i) => i.module === EXTISM_NAMESPACE && i.name === "http_request");
  if (makesRequests && spec.allowedHosts.length === 0) {
    const hosts = [...new Set([...text.matchAll(/https?:\/\/([a-z0-9][a-z0-9.-]*[a-z0-9])/gi)].map((m) => m[1]!.toLowerCase()))];
    notes.push(
      hosts.length > 0
        ? `module "${table.name}" makes HTTP requests, and WASImancer let it reach any host; WasmForge lets it reach none unless allowed. ` +
            `The hosts its code names: add allowed_hosts = [${hosts.map((h) => `"${h}"`).join(", ")}] to it (keep only those it should reach)`
        : `module "${table.name}" makes HTTP requests, and WASImancer let it reach any host; WasmForge lets it reach none unless allowed. ` +
            "Its code names no host (it may build URLs from its input): add the hosts it should reach to its allowed_hosts",
    );
  }
  const keys = [...new Set([...text.matchAll(/WASM_[A-Z0-9_]+/g)].map((m) => m[0]))].filter((key) => !Object.hasOwn(spec.pluginConfig, key));
  if (keys.length > 0) {
    notes.push(
      `module "${table.name}" reads config ${keys.join(", ")}, which WASImancer filled from WASM_* environment variables and nothing sets now: ` +
        `add config = { ${keys.map((k) => `${k} = "…"`).join(", ")} } to it, or set those variables when you run \`wasmforge import\``,
    );
  }
  return notes;
}

function readYaml<S extends z.ZodType>(file: string, schema: S): z.infer<S> {
  return checked(file, readData(file), schema, "a WASImancer file of this kind");
}

/** A file's data: JSON, TOML or YAML by its extension (YAML also reads JSON). */
function readData(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ImportError(`${file}: cannot read: ${(err as Error).message}`);
  }
  const ext = extname(file).toLowerCase();
  if (ext === ".json") {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new ImportError(`${file}: JSON syntax error: ${(err as Error).message}`);
    }
  }
  if (ext === ".toml") {
    try {
      return parseToml(text);
    } catch (err) {
      if (err instanceof TomlError) throw new ImportError(`${file}:${err.line}:${err.column}: TOML syntax error: ${err.message.split("\n")[0]}`);
      throw err;
    }
  }
  try {
    return parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const at = err.linePos?.[0];
      throw new ImportError(`${file}${at ? `:${at.line}:${at.col}` : ""}: YAML syntax error: ${err.message.split("\n")[0]}`);
    }
    throw err;
  }
}

function checked<S extends z.ZodType>(file: string, data: unknown, schema: S, what: string): z.infer<S> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${formatKeyPath(i.path)}: ${i.message}`);
    throw new ImportError(`${file}: not ${what}:\n  ${issues.join("\n  ")}`);
  }
  return parsed.data;
}

function wrap<T>(file: string, convert: () => T): T {
  try {
    return convert();
  } catch (err) {
    if (err instanceof ImportError) throw err;
    throw new ImportError(`${file}: ${(err as Error).message}`);
  }
}

function render(tables: Record<string, unknown[]>, header: string): string {
  const nonEmpty = Object.fromEntries(Object.entries(tables).filter(([, items]) => items.length > 0));
  try {
    return header + stringify(nonEmpty);
  } catch (err) {
    throw new ImportError(`cannot write the result as TOML: ${(err as Error).message}`);
  }
}

/** The result as the config loader reads it: what is printed is a config `serve` accepts. */
function parse(text: string, base: string): Config {
  try {
    return parseConfig(text, join(base, "wasmforge.toml"));
  } catch (err) {
    if (err instanceof ConfigError) throw new ImportError(`the converted config is not valid: ${err.message}`);
    throw err;
  }
}
