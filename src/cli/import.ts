// `wasmforge import`: a WASImancer project's plugins.yml (and resources.yml, prompts.yml) as
// WasmForge TOML on stdout, checked by the config loader before it is printed. What could not be
// carried over exactly is said on stderr.

import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { stringify } from "smol-toml";
import { parse as parseYaml, YAMLParseError } from "yaml";
import type { z } from "zod";
import { ConfigError, parseConfig, type Config } from "../config/load.js";
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
import { discoverTools } from "../discovery/index.js";
import type { Discovery } from "../discovery/types.js";
import { readWasmInfo } from "../wasm/reader.js";
import { log } from "../core/log.js";

export interface ImportOptions {
  resources?: string;
  prompts?: string;
  /** The directory the TOML will be saved in: module paths are written relative to it. */
  base?: string;
}

class ImportError extends Error {}

const HEADER =
  "# Converted from WASImancer by `wasmforge import`.\n" +
  "# Module paths are relative to the directory this file is meant for (--base, default: the current directory).\n\n";

export async function importWasimancer(plugins: string | undefined, options: ImportOptions): Promise<number> {
  if (!plugins && !options.resources && !options.prompts) {
    log.error("nothing to import: give a plugins.yml, and/or --resources resources.yml, --prompts prompts.yml");
    return 1;
  }
  const base = resolve(options.base ?? ".");
  const notes: string[] = [];
  const tables: Record<string, unknown[]> = {};
  try {
    if (plugins) tables.modules = convertPlugins(plugins, base, notes);
    if (options.resources) {
      const converted = convertResources(readYaml(options.resources, resourcesFile));
      notes.push(...converted.notes.map((n) => `${options.resources}: ${n}`));
      tables.resources = converted.value.resources;
      tables.resource_templates = converted.value.resource_templates;
    }
    if (options.prompts) {
      tables.prompts = wrap(options.prompts, () => convertPrompts(readYaml(options.prompts!, promptsFile)).value);
    }
    const text = render(tables);
    if (tables.modules?.length) hideUnlistedExports(tables.modules as ModuleTable[], parse(text, base), notes);
    const final = render(tables);
    parse(final, base);
    for (const note of notes) log.warn(note);
    process.stdout.write(final);
    return 0;
  } catch (err) {
    if (err instanceof ImportError || err instanceof ConfigError) {
      log.error(err.message);
      return 1;
    }
    throw err;
  }
}

function convertPlugins(file: string, base: string, notes: string[]): ModuleTable[] {
  const data = readYaml(file, pluginsFile);
  const dir = dirname(resolve(file));
  if (data.plugins.length) {
    notes.push(
      `${file}: WASImancer let every plugin reach any host; WasmForge lets a module reach none unless its allowed_hosts lists them. ` +
        `Add allowed_hosts = ["example.com"] to modules that make HTTP requests.`,
    );
  }
  return data.plugins.map((plugin, i) => {
    if (!plugin.path) throw new ImportError(`${file}: plugins[${i}].path: required (where the .wasm file is)`);
    const converted = pluginToModule(plugin);
    notes.push(...converted.notes.map((n) => `${file}: ${n}`));
    const { name, description, ...rest } = converted.value;
    // WASImancer joins the path to its plugins directory, even one starting with "/".
    const wasm = resolve(dir, plugin.path.replace(/^\/+/, ""));
    return { name, ...(description ? { description } : {}), path: relative(base, wasm).split(sep).join("/"), ...rest };
  });
}

/** WASImancer serves only the listed functions: hide the others, for the modules whose file can be read. */
function hideUnlistedExports(modules: ModuleTable[], config: Config, notes: string[]): void {
  for (const table of modules) {
    const spec = config.modules.find((m) => m.name === table.name);
    if (!spec || spec.source.kind !== "local") continue;
    let discovered: Discovery;
    try {
      discovered = discoverTools(spec, readWasmInfo(new Uint8Array(readFileSync(spec.source.path))));
    } catch (err) {
      notes.push(
        `module "${table.name}": could not read ${spec.source.path} (${(err as Error).message}), so exports its plugins.yml entry ` +
          "does not list are not hidden; run `wasmforge tools` once the file is in place to see what it serves",
      );
      continue;
    }
    if (discovered.interface) continue;
    const hidden = hideUnlisted(table, discovered.tools.map((t) => t.function));
    if (hidden.length) notes.push(`module "${table.name}": hid exports plugins.yml does not list: ${hidden.join(", ")}`);
  }
}

function readYaml<S extends z.ZodType>(file: string, schema: S): z.infer<S> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ImportError(`${file}: cannot read: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const at = err.linePos?.[0];
      throw new ImportError(`${file}${at ? `:${at.line}:${at.col}` : ""}: YAML syntax error: ${err.message.split("\n")[0]}`);
    }
    throw err;
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${formatKeyPath(i.path)}: ${i.message}`);
    throw new ImportError(`${file}: not a WASImancer file of this kind:\n  ${issues.join("\n  ")}`);
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

function render(tables: Record<string, unknown[]>): string {
  const nonEmpty = Object.fromEntries(Object.entries(tables).filter(([, items]) => items.length > 0));
  try {
    return HEADER + stringify(nonEmpty);
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
