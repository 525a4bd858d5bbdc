// A hyper-mcp config (hyper-mcp-rs/hyper-mcp, `src/config.rs`) as WasmForge module tables. Both of
// its shapes are read: the map `plugins: { <name>: { url, runtime_config } }` (since 2025-08, tools
// served as `<plugin>-<tool>`) and the older list `plugins: [{ name, path | url, runtime_config }]`
// (tools served under their own names, or `tool_name_prefix`). Used by `wasmforge import`.

import { fileURLToPath } from "node:url";
import { z } from "zod";
import { moduleNameFrom } from "../core/naming.js";
import { formatReference, parseReference, ReferenceError } from "../core/oci-reference.js";
import type { Converted, ModuleTable } from "./wasimancer.js";

// A foreign file: unknown keys are tolerated, and reported where dropped.
const names = z.array(z.string()).nullish();
const runtimeConfig = z.looseObject({
  skip_tools: names,
  skip_prompts: names,
  skip_resources: names,
  skip_resource_templates: names,
  allowed_hosts: names,
  /** The oldest configs had one host. */
  allowed_host: z.string().nullish(),
  allowed_paths: names,
  allowed_secrets: z.array(z.unknown()).nullish(),
  env_vars: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).nullish(),
  memory_limit: z.union([z.string(), z.number()]).nullish(),
  /** List form only; hyper-mcp dropped it when it began namespacing. */
  tool_name_prefix: z.string().nullish(),
});
type RuntimeConfig = z.infer<typeof runtimeConfig>;

const plugin = z.looseObject({
  url: z.string().min(1).optional(),
  /** hyper-mcp reads `path` as another name for `url`. */
  path: z.string().min(1).optional(),
  description: z.string().nullish(),
  runtime_config: runtimeConfig.nullish(),
});
type Plugin = z.infer<typeof plugin>;

const topLevel = {
  auths: z.record(z.string(), z.unknown()).nullish(),
  oci: z.unknown().optional(),
  dynamic_loading: z.unknown().optional(),
};
const mapForm = z.looseObject({ plugins: z.record(z.string(), plugin), ...topLevel });
const listForm = z.looseObject({ plugins: z.array(plugin.extend({ name: z.string().min(1) })), ...topLevel });
export type HyperMcpFile = z.infer<typeof mapForm> | z.infer<typeof listForm>;

/** The schema of the shape `data` is in (one at a time, so a mistake is reported where it is). */
export function hyperMcpSchema(data: unknown): typeof mapForm | typeof listForm {
  return Array.isArray((data as { plugins?: unknown } | null)?.plugins) ? listForm : mapForm;
}

const KNOWN_TOP = new Set(["plugins", "auths", "oci", "dynamic_loading"]);
const KNOWN_PLUGIN = new Set(["name", "url", "path", "description", "runtime_config"]);
const KNOWN_RUNTIME = new Set(Object.keys(runtimeConfig.shape));

/** The config's plugins as module tables, and what could not be carried over (for the user). */
export function convertHyperMcp(data: HyperMcpFile): Converted<ModuleTable[]> {
  const notes: string[] = [];
  const listed = Array.isArray(data.plugins);
  const entries: [string, Plugin][] = Array.isArray(data.plugins) ? data.plugins.map((p) => [p.name, p]) : Object.entries(data.plugins);
  const modules: ModuleTable[] = [];
  for (const [name, entry] of entries) {
    const converted = convertPlugin(name, entry, listed, notes);
    if (converted) modules.push(converted);
  }
  const unpinned = modules.filter((m) => m.url && !m.url.includes("@sha256:")).map((m) => m.name);
  if (unpinned.length) {
    notes.push(
      `${unpinned.length === 1 ? "module" : "modules"} ${quoteAll(unpinned)} ${unpinned.length === 1 ? "is" : "are"} not pinned, so WasmForge refuses to load ` +
        `${unpinned.length === 1 ? "it" : "them"}: run \`wasmforge fetch\` on the converted config; it prints the line that pins each`,
    );
  }

  const dropped = Object.keys(data).filter((k) => !KNOWN_TOP.has(k));
  if (dropped.length) notes.push(`dropped top-level keys ${quoteAll(dropped)} (no WasmForge equivalent)`);
  if (data.auths && Object.keys(data.auths).length) {
    notes.push(
      `"auths" was not carried over: WasmForge sends no credentials with https:// downloads, and reads registry credentials from Docker's config (docker login) instead`,
    );
  }
  if (data.oci !== undefined) {
    notes.push(`"oci" (cosign signature checks) was not carried over: WasmForge does not check signatures; it runs only modules pinned by digest or sha256`);
  }
  if (data.dynamic_loading) notes.push(`"dynamic_loading" has no equivalent; WasmForge's admin API adds and removes modules at run time`);
  if (modules.length) {
    notes.push(
      "hyper-mcp's host functions for keyring secrets (get_keyring_secret), OAuth tokens (get_access_token), sampling, " +
        "elicitation and roots are not provided: a plugin that imports one fails to load, and the error names it",
    );
  }
  return { value: modules, notes };
}

function convertPlugin(name: string, entry: Plugin, listed: boolean, notes: string[]): ModuleTable | undefined {
  const say = (note: string) => notes.push(`plugin "${name}": ${note}`);
  const moduleName = moduleNameFrom(name);
  if (moduleName !== name) say(`became module "${moduleName}" (module names allow 1-64 letters, digits, "_" and "-")`);
  const location = entry.url ?? entry.path;
  if (!location) {
    say("has no url, so it was left out");
    return undefined;
  }
  const source = convertLocation(location, say);
  if (!source) return undefined;
  const droppedKeys = Object.keys(entry).filter((k) => !KNOWN_PLUGIN.has(k));
  if (droppedKeys.length) say(`dropped keys ${quoteAll(droppedKeys)}`);

  const runtime = entry.runtime_config ?? {};
  const module: ModuleTable = { name: moduleName, ...(entry.description ? { description: entry.description } : {}), ...source };
  // hyper-mcp's map form serves tools as <plugin>-<tool>; the list form served them as they were.
  const prefix = listed ? runtime.tool_name_prefix ?? undefined : `${moduleName}-`;
  if (prefix) module.tool_prefix = prefix;
  Object.assign(module, convertRuntime(runtime, listed, say));
  return module;
}

type SourceKeys = Pick<ModuleTable, "url" | "path">;

function convertLocation(location: string, say: (note: string) => void): SourceKeys | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(location)?.[1]?.toLowerCase();
  if (scheme === "oci") {
    const text = location.slice("oci://".length);
    let reference;
    try {
      reference = parseReference(text);
    } catch (err) {
      if (!(err instanceof ReferenceError)) throw err;
      // hyper-mcp, like docker, reads a reference without a registry as Docker Hub's.
      try {
        reference = parseReference(`docker.io/${text}`);
        say(`${location} names no registry; it became oci://${formatReference(reference)}, as hyper-mcp reads it`);
      } catch {
        say(`${err.message}; the plugin was left out`);
        return undefined;
      }
    }
    return { url: `oci://${formatReference(reference)}` };
  }
  if (scheme === "file") {
    try {
      return { path: fileURLToPath(location) };
    } catch (err) {
      say(`${location} is not a file URL WasmForge can read (${(err as Error).message}); the plugin was left out`);
      return undefined;
    }
  }
  if (scheme === "https" || scheme === "http") return { url: location };
  if (scheme === "s3") {
    say(`s3:// URLs are not supported; download ${location} and name the file with path = "…", or publish it to an OCI registry. The plugin was left out`);
    return undefined;
  }
  say(`unsupported URL ${location} (WasmForge reads oci://, https:// and file:// plugins); the plugin was left out`);
  return undefined;
}

type RuntimeKeys = Pick<ModuleTable, "allowed_hosts" | "allowed_paths" | "config" | "max_memory_mb" | "hidden_tools">;

function convertRuntime(runtime: RuntimeConfig, listed: boolean, say: (note: string) => void): RuntimeKeys {
  const out: RuntimeKeys = {};
  const hosts = [...(runtime.allowed_hosts ?? []), ...(runtime.allowed_host ? [runtime.allowed_host] : [])];
  if (hosts.length) out.allowed_hosts = hosts;

  if (runtime.allowed_paths?.length) {
    const paths: Record<string, string> = {};
    for (const spec of runtime.allowed_paths) {
      const colon = spec.indexOf(":");
      const host = (colon < 0 ? spec : spec.slice(0, colon)).trim();
      const guest = (colon < 0 ? "" : spec.slice(colon + 1)).trim() || host;
      paths[host] = guest;
      if (!host.startsWith("/")) say(`allowed_paths "${host}" is relative: WasmForge reads it relative to the config file, hyper-mcp to its working directory`);
    }
    out.allowed_paths = paths;
  }

  if (runtime.env_vars && Object.keys(runtime.env_vars).length) {
    out.config = Object.fromEntries(Object.entries(runtime.env_vars).map(([k, v]) => [k, String(v)]));
    const placeholders = Object.entries(out.config).filter(([, v]) => /\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}/.test(v)).map(([k]) => k);
    if (placeholders.length) {
      say(`env_vars ${quoteAll(placeholders)} hold \${VAR} placeholders, copied as they are: WasmForge does not expand environment variables, so put the values in config`);
    }
  }

  if (runtime.memory_limit !== undefined && runtime.memory_limit !== null) {
    const bytes = parseByteSize(runtime.memory_limit);
    if (bytes === undefined) say(`memory_limit "${runtime.memory_limit}" is not a size WasmForge understands (e.g. "256Mi", "1GB"); the server's max_memory_mb applies`);
    else {
      out.max_memory_mb = Math.max(1, Math.ceil(bytes / 2 ** 20));
      if (bytes % 2 ** 20 !== 0) say(`memory_limit "${runtime.memory_limit}" became max_memory_mb = ${out.max_memory_mb} (whole MiB, rounded up)`);
    }
  }

  const hidden: string[] = [];
  for (const pattern of runtime.skip_tools ?? []) {
    // The list form's skip_tools were exact names; the map form's are regular expressions.
    const converted = listed ? pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : wholeNamePattern(pattern);
    try {
      new RegExp(`^(?:${converted})$`, "u");
      hidden.push(converted);
    } catch {
      say(`skip_tools "${pattern}" is not a regular expression JavaScript reads, so it was dropped; hide those tools with [[modules.tools]] hidden = true`);
    }
  }
  if (hidden.length) out.hidden_tools = hidden;

  const skipped = (["skip_prompts", "skip_resources", "skip_resource_templates"] as const).filter((k) => runtime[k]?.length);
  if (skipped.length) say(`${skipped.join(", ")} were not carried over: WasmForge serves every prompt and resource a plugin lists`);
  if (runtime.allowed_secrets?.length) say("allowed_secrets (keyring secrets) were not carried over: WasmForge has no get_keyring_secret host function; pass the values in config");
  const dropped = Object.keys(runtime).filter((k) => !KNOWN_RUNTIME.has(k));
  if (dropped.length) say(`dropped runtime_config keys ${quoteAll(dropped)}`);
  return out;
}

/**
 * hyper-mcp anchors a skip_tools pattern at both ends unless it already starts with `^`/`\A` or
 * ends with `$`/`\z`, in which case it searches. `hidden_tools` always matches whole names, so an
 * anchored end stays and a free end gets `.*`.
 */
export function wholeNamePattern(pattern: string): string {
  let p = pattern;
  const start = p.startsWith("^") || p.startsWith("\\A");
  const end = (p.endsWith("$") && !p.endsWith("\\$")) || p.endsWith("\\z");
  if (!start && !end) return p;
  if (p.startsWith("\\A")) p = `^${p.slice(2)}`;
  if (p.endsWith("\\z")) p = `${p.slice(0, -2)}$`;
  return `${start ? "" : ".*"}${p}${end ? "" : ".*"}`;
}

const UNITS: Record<string, number> = {
  "": 1, b: 1,
  k: 1e3, kb: 1e3, ki: 2 ** 10, kib: 2 ** 10,
  m: 1e6, mb: 1e6, mi: 2 ** 20, mib: 2 ** 20,
  g: 1e9, gb: 1e9, gi: 2 ** 30, gib: 2 ** 30,
};

/** hyper-mcp's memory_limit (the bytesize crate's forms: "256Mi", "512MB", "1 GiB", bare bytes), in bytes. */
export function parseByteSize(value: string | number): number | undefined {
  if (typeof value === "number") return value > 0 ? value : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) return undefined;
  const bytes = Math.round(Number(match[1]) * unit);
  return bytes > 0 ? bytes : undefined;
}

const quoteAll = (keys: string[]) => keys.map((k) => `"${k}"`).join(", ");
