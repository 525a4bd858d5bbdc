// `wasmforge tools`: the tools a config would serve, worked out exactly as `serve` does (no workers
// started). Exits 1 when a module fails to load, so it doubles as a config check.

import { findConfig, loadConfig } from "../config/load.js";
import type { JsonSchema } from "../discovery/types.js";
import { buildCatalog, type Catalog, type ModuleFailure } from "../server/catalog.js";

export interface ToolsOptions {
  config?: string;
  json?: boolean;
}

export interface ToolsReport {
  config: string;
  tools: {
    name: string;
    module: string;
    export: string;
    pattern: string;
    description: string;
    inputSchema: JsonSchema;
    outputSchema?: JsonSchema;
  }[];
  failures: ModuleFailure[];
  warnings: { module: string; warning: string }[];
}

export async function tools(options: ToolsOptions): Promise<number> {
  const config = loadConfig(findConfig(options.config));
  const report = toolsReport(config.file, await buildCatalog(config));
  process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatTools(report));
  return report.failures.length > 0 ? 1 : 0;
}

export function toolsReport(file: string, catalog: Catalog): ToolsReport {
  return {
    config: file,
    tools: [...catalog.tools.values()].map(({ tool, module }) => ({
      name: tool.name,
      module: module.spec.name,
      export: tool.function,
      // Discovery names the numeric shapes more precisely (e.g. i32_i32_to_i32) than the call shape.
      pattern: module.discovery.decisions.find((d) => d.export === tool.function)?.pattern ?? tool.shape.pattern,
      description: tool.description,
      inputSchema: tool.inputSchema,
      ...(tool.outputSchema ? { outputSchema: tool.outputSchema } : {}),
    })),
    failures: catalog.failures,
    warnings: catalog.modules.flatMap((m) => m.discovery.warnings.map((warning) => ({ module: m.spec.name, warning }))),
  };
}

function formatTools(r: ToolsReport): string {
  const modules = new Set(r.tools.map((t) => t.module));
  const lines = [`${r.config}: ${r.tools.length} tool${r.tools.length === 1 ? "" : "s"} from ${modules.size} module${modules.size === 1 ? "" : "s"}`];
  for (const t of r.tools) {
    lines.push("", `${t.name}  (module ${t.module}, export ${t.export}, pattern ${t.pattern})`);
    lines.push(`    ${t.description}`);
    lines.push(`    arguments: ${describeArguments(t.inputSchema)}`);
  }
  if (r.warnings.length > 0) {
    lines.push("", "Warnings:");
    for (const w of r.warnings) lines.push(`  module "${w.module}": ${w.warning}`);
  }
  if (r.failures.length > 0) {
    lines.push("", `Not served (${r.failures.length}):`);
    for (const f of r.failures) lines.push(`  module "${f.module}" (${f.origin}): ${f.error}`);
  }
  return `${lines.join("\n")}\n`;
}

/** One line per schema: `a: integer, b?: string`; `--json` has the full schema. */
export function describeArguments(schema: JsonSchema): string {
  const properties = isRecord(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required : [];
  const names = Object.keys(properties);
  if (names.length === 0) return schema.additionalProperties === false ? "none" : "any JSON object";
  const listed = names.map((name) => {
    const prop = properties[name];
    const type = isRecord(prop) && typeof prop.type === "string" ? prop.type : "any";
    return `${name}${required.includes(name) ? "" : "?"}: ${type}`;
  });
  return listed.join(", ");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
