// The one JSON Schema validator: tool arguments, plugins' declared schemas and their
// structuredContent all go through it. MCP makes 2020-12 the default dialect, so a schema without
// `$schema` is read as 2020-12; a schema that names draft-07 (or 06/04, read as 07) or 2019-09 is
// read in that dialect.

import { createRequire } from "node:module";
import type { ErrorObject, Options, ValidateFunction } from "ajv";

export type JsonSchema = Record<string, unknown>;

export interface SchemaProblem {
  /** Where in the value: `""` for the value itself, else a JSON pointer such as `/items/0`. */
  path: string;
  keyword: string;
  message: string;
  params: Record<string, unknown>;
}

export type Validator = (value: unknown) => SchemaProblem[];

type Dialect = "2020-12" | "2019-09" | "draft-07";

// addUsedSchema: false — a schema's `$id` is not registered, so the same tool coming back after a
// reload (or two tools sharing an `$id`) compiles again without a clash.
const options: Options = { allErrors: true, strict: false, validateFormats: false, addUsedSchema: false };
const require = createRequire(import.meta.url);
// The dialects load on first use: the stdio start path compiles no schema at all.
const instances = new Map<Dialect, { compile(schema: JsonSchema): ValidateFunction }>();

type AjvClass = new (o: Options) => { compile(schema: JsonSchema): ValidateFunction };

function ajvFor(dialect: Dialect): { compile(schema: JsonSchema): ValidateFunction } {
  let ajv = instances.get(dialect);
  if (!ajv) {
    const Ajv: AjvClass =
      dialect === "2020-12"
        ? (require("ajv/dist/2020.js") as { Ajv2020: AjvClass }).Ajv2020
        : dialect === "2019-09"
          ? (require("ajv/dist/2019.js") as { Ajv2019: AjvClass }).Ajv2019
          : (require("ajv") as { Ajv: AjvClass }).Ajv;
    ajv = new Ajv(options);
    instances.set(dialect, ajv);
  }
  return ajv;
}

export function dialectOf(schema: JsonSchema): Dialect {
  const uri = typeof schema.$schema === "string" ? schema.$schema : "";
  if (/draft-0[4-7]/.test(uri)) return "draft-07";
  if (/2019-09/.test(uri)) return "2019-09";
  return "2020-12";
}

/** Compiles a schema; throws with Ajv's reason when the schema itself is invalid. */
export function compileSchema(schema: JsonSchema): Validator {
  const dialect = dialectOf(schema);
  // The dialect is decided above; Ajv's own meta-schema lookup would reject e.g. draft-04 URIs.
  const { $schema: _dialect, ...rest } = schema;
  const validate = ajvFor(dialect).compile(rest);
  return (value) => (validate(value) ? [] : (validate.errors ?? []).map(toProblem));
}

function toProblem(e: ErrorObject): SchemaProblem {
  return { path: e.instancePath, keyword: e.keyword, message: e.message ?? "is invalid", params: e.params as Record<string, unknown> };
}

/** Problems as one line: `/a must be integer; /b must be string`. */
export function problemsText(problems: SchemaProblem[]): string {
  return problems.map((p) => `${p.path || "(value)"} ${p.message}`).join("; ");
}
