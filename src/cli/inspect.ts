// `wasmforge inspect FILE.wasm`: what WasmForge sees in a module, without a config — every export
// with its signature and the pattern it matched (or why it was skipped), its imports and memories.

import { basename, resolve } from "node:path";
import { defaultModuleSpec } from "../config/load.js";
import { discoverComponent, qualifiedName } from "../discovery/component.js";
import { componentToolName } from "../discovery/component-schema.js";
import { INTERFACES } from "../discovery/describing.js";
import { discoverTools } from "../discovery/index.js";
import type { Discovery, JsonSchema, PluginInterface } from "../discovery/types.js";
import { readComponentInfo, witSignature, witType, type ComponentInfo } from "../wasm/component.js";
import { binaryKind, formatSignature, readWasmInfo, type MemoryLimits, type WasmInfo } from "../wasm/reader.js";
import { log } from "../core/log.js";
import { formatBytes } from "../core/format.js";
import { sha256Hex } from "../core/hash.js";
import { checkComponentImports } from "../runtime/imports.js";
import { readLocalModule } from "../sources/local.js";

export interface InspectOptions {
  json?: boolean;
}

export interface ExportReport {
  name: string;
  signature: string;
  params: string[];
  paramNames: (string | null)[];
  results: string[];
  /** Tool name it would be served as, or null when skipped. */
  tool: string | null;
  pattern: string | null;
  /** The rule that chose the pattern, or why the export was skipped. */
  rule: string;
}

export interface InspectReport {
  file: string;
  bytes: number;
  sha256: string;
  abi: Discovery["abi"];
  extism: boolean;
  /** The describing interface (hyper-mcp v1/v2, mcp.run), when the plugin lists its own tools. */
  interface: PluginInterface | null;
  exports: ExportReport[];
  otherExports: { name: string; kind: string }[];
  imports: { module: string; name: string; kind: string; signature?: string }[];
  memories: MemoryLimits[];
  tools: { name: string; export: string; pattern: string; inputSchema: JsonSchema; outputSchema?: JsonSchema }[];
  /** For a WebAssembly component: its binary format version, its WIT world, and why it would not load (an import WasmForge does not provide). */
  component: { version: number; world: string; problem?: string } | null;
}

/** Prints the report; returns the exit code (1 when the file cannot be read or is not valid wasm). */
export async function inspect(file: string, options: InspectOptions): Promise<number> {
  let report: InspectReport;
  try {
    report = await inspectFile(file);
  } catch (err) {
    log.error((err as Error).message);
    return 1;
  }
  process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, file));
  return 0;
}

export async function inspectFile(file: string): Promise<InspectReport> {
  const path = resolve(file);
  const bytes = await readLocalModule(path);
  if (binaryKind(bytes) === "component") return inspectComponent(file, path, bytes);
  let info: WasmInfo;
  try {
    info = readWasmInfo(bytes);
    // The section reader checks structure only; compiling validates the code too.
    await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw new Error(`${file}: ${notWasmReason(bytes, (err as Error).message)}`);
  }
  // Discovery as a config entry with no [[modules.tools]] overrides would see it.
  const discovery = discoverTools(defaultModuleSpec(basename(path).replace(/\.wasm$/i, ""), path), info);
  const toolByExport = new Map(discovery.tools.map((t) => [t.function, t]));
  const decisionByExport = new Map(discovery.decisions.map((d) => [d.export, d]));

  return {
    file: path,
    bytes: bytes.length,
    sha256: sha256Hex(bytes),
    abi: discovery.abi,
    extism: discovery.abi === "extism",
    interface: discovery.interface ?? null,
    exports: info.functions.map((fn) => {
      const decision = decisionByExport.get(fn.name);
      const tool = toolByExport.get(fn.name);
      return {
        name: fn.name,
        signature: formatSignature(fn.signature, fn.paramNames),
        params: fn.signature.params,
        paramNames: fn.paramNames.map((n) => n ?? null),
        results: fn.signature.results,
        tool: tool?.name ?? null,
        pattern: tool ? (decision?.pattern ?? tool.shape.pattern) : null,
        rule: decision?.rule ?? "",
      };
    }),
    otherExports: info.otherExports,
    imports: info.imports.map((i) => ({ ...i, signature: i.signature ? formatSignature(i.signature) : undefined })),
    memories: info.memories,
    tools: discovery.tools.map((t) => ({
      name: t.name,
      export: t.function,
      pattern: decisionByExport.get(t.function)?.pattern ?? t.shape.pattern,
      inputSchema: t.inputSchema,
      ...(t.outputSchema ? { outputSchema: t.outputSchema } : {}),
    })),
    component: null,
  };
}

/** A component: its world read from the binary (no transpiling), every function as a tool or why not. */
function inspectComponent(file: string, path: string, bytes: Uint8Array): InspectReport {
  let info: ComponentInfo;
  try {
    info = readComponentInfo(bytes);
  } catch (err) {
    throw new Error(`${file}: not a valid WebAssembly component: ${(err as Error).message}`);
  }
  const discovery = discoverComponent(defaultModuleSpec(basename(path).replace(/\.wasm$/i, ""), path), info);
  const toolByKey = new Map(discovery.tools.map((t) => [t.function, t]));
  const decisionByKey = new Map(discovery.decisions.map((d) => [d.export, d]));
  return {
    file: path,
    bytes: bytes.length,
    sha256: sha256Hex(bytes),
    abi: "component",
    extism: false,
    interface: null,
    exports: info.functions.map((fn) => {
      const key = componentToolName(fn);
      const tool = toolByKey.get(key);
      return {
        name: qualifiedName(fn),
        signature: witSignature(fn),
        params: fn.params.map((p) => witType(p.type)),
        paramNames: fn.params.map((p) => p.name),
        results: fn.result ? [witType(fn.result)] : [],
        tool: tool?.name ?? null,
        pattern: tool ? "component" : null,
        rule: decisionByKey.get(key)?.rule ?? "",
      };
    }),
    otherExports: [],
    imports: info.imports.map((i) => ({ module: i.name, name: "", kind: i.sort })),
    memories: [],
    tools: discovery.tools.map((t) => ({
      name: t.name,
      export: t.function,
      pattern: "component",
      inputSchema: t.inputSchema,
      ...(t.outputSchema ? { outputSchema: t.outputSchema } : {}),
    })),
    component: { version: info.version, world: worldText(info), ...importProblem(info) },
  };
}

function importProblem(info: ComponentInfo): { problem?: string } {
  try {
    checkComponentImports(info.imports);
    return {};
  } catch (err) {
    return { problem: `it would not load: it ${(err as Error).message}` };
  }
}

/** The world as WIT: imports, world-level functions, and each exported interface with its functions. */
export function worldText(info: ComponentInfo): string {
  const lines = ["world root {"];
  for (const i of info.imports) lines.push(`  import ${i.name};`);
  for (const e of info.exports) {
    if (e.sort === "func") {
      const fn = info.functions.find((f) => f.interface === undefined && f.name === e.name);
      if (fn) lines.push(`  export ${witSignature(fn)};`);
      continue;
    }
    lines.push(`  export ${e.name} {`);
    for (const fn of info.functions.filter((f) => f.interface === e.name)) lines.push(`    ${witSignature(fn)};`);
    lines.push("  }");
  }
  lines.push("}");
  return lines.join("\n");
}

function notWasmReason(bytes: Uint8Array, message: string): string {
  const head = new TextDecoder().decode(bytes.subarray(0, 4096));
  if (/^\s*(;;.*\n\s*)*\(module\b/.test(head)) return "this is WebAssembly text (.wat); compile it to a .wasm first (e.g. wat2wasm)";
  if (message.startsWith("not a WebAssembly module")) return message;
  return `not a valid WebAssembly module: ${message}`;
}


export function formatReport(r: InspectReport, shownAs: string): string {
  if (r.component) return formatComponent(r, r.component, shownAs);
  const lines: string[] = [];
  const kind = r.interface
    ? `Extism plugin that describes its own tools, ${INTERFACES[r.interface].label} (${r.interface}): ` +
      `its tools come from calling ${INTERFACES[r.interface].list} when served; \`wasmforge tools\` lists them`
    : r.extism
      ? "Extism plugin (imports extism:host/env): each tool takes a JSON object as its input"
      : "plain WebAssembly module (not an Extism plugin): tools are chosen by signature";
  lines.push(`${shownAs}: ${kind}`);
  lines.push(`  ${r.bytes} bytes, sha256 ${r.sha256}`);
  lines.push("");

  lines.push(`Exported functions (${r.exports.length}, ${r.tools.length} served as tools):`);
  if (r.exports.length === 0) lines.push("  none");
  for (const e of r.exports) {
    lines.push(`  ${e.name}${e.signature}`);
    lines.push(e.tool ? `      tool "${e.tool}", pattern ${e.pattern}: ${e.rule}` : `      skipped: ${e.rule}`);
  }
  if (r.otherExports.length > 0) {
    lines.push("", "Other exports:");
    for (const e of r.otherExports) lines.push(`  ${e.name} (${e.kind})`);
  }

  lines.push("", `Imports (${r.imports.length}):`);
  if (r.imports.length === 0) lines.push("  none");
  for (const i of r.imports) lines.push(`  ${i.module}.${i.name} ${i.kind}${i.signature ? ` ${i.signature}` : ""}`);

  lines.push("", `Memories (${r.memories.length}):`);
  if (r.memories.length === 0) lines.push("  none");
  for (const m of r.memories) lines.push(`  ${formatMemory(m)}`);

  if (r.extism && !r.interface) {
    lines.push("", "Extism tools accept any JSON object unless the config describes their arguments", "(input_schema or arguments in [[modules.tools]]).");
  }
  return `${lines.join("\n")}\n`;
}

function formatComponent(r: InspectReport, component: NonNullable<InspectReport["component"]>, shownAs: string): string {
  const lines = [
    `${shownAs}: WebAssembly component (WASI 0.2, binary format version ${component.version}): each exported function is a tool, its schema from its WIT types`,
    `  ${r.bytes} bytes, sha256 ${r.sha256}`,
    ...(component.problem ? [`  ${component.problem}`] : []),
    "",
    "World:",
    ...component.world.split("\n").map((l) => `  ${l}`),
    "",
    `Functions (${r.exports.length}, ${r.tools.length} served as tools):`,
  ];
  if (r.exports.length === 0) lines.push("  none");
  for (const e of r.exports) {
    lines.push(`  ${e.name}: ${e.signature.replace(/^[^:]*: /, "")}`);
    lines.push(e.tool ? `      tool "${e.tool}": ${e.rule}` : `      skipped: ${e.rule}`);
  }
  return `${lines.join("\n")}\n`;
}

function formatMemory(m: MemoryLimits): string {
  const size = (pages: number) => `${pages} page${pages === 1 ? "" : "s"} (${formatBytes(pages * 65536)})`;
  const max = m.maxPages === undefined ? "no maximum" : `maximum ${size(m.maxPages)}`;
  return `${m.imported ? "imported" : "own"}: minimum ${size(m.minPages)}, ${max}`;
}
