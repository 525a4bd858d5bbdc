// Checks a call's arguments against the tool's input schema and turns them into wasm inputs.

import { createRequire } from "node:module";
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from "ajv";
import type { Ajv2020 } from "ajv/dist/2020.js";
import type { ToolDef } from "../discovery/types.js";
import type { CallInput } from "../runtime/protocol.js";

const options: Options = { allErrors: true, strict: false, validateFormats: false };
const draft07 = new Ajv(options);
// The 2020-12 dialect is loaded the first time a schema asks for it.
let draft2020: Ajv2020 | undefined;
const require = createRequire(import.meta.url);
const ajv2020 = (): Ajv2020 => (draft2020 ??= new (require("ajv/dist/2020.js") as typeof import("ajv/dist/2020.js")).Ajv2020(options));
const compiled = new WeakMap<ToolDef, ValidateFunction | Error>();

export class ArgumentError extends Error {}

function validatorFor(tool: ToolDef): ValidateFunction {
  let validate = compiled.get(tool);
  if (!validate) {
    try {
      // `$id` would be registered once per Ajv instance and clash when a reload brings the tool back;
      // `$schema` picks the dialect (2020-12 for schemas that say so, else draft-07).
      const { $id: _id, $schema, ...schema } = tool.inputSchema;
      const ajv = typeof $schema === "string" && /2019-09|2020-12/.test($schema) ? ajv2020() : draft07;
      validate = ajv.compile(schema);
    } catch (err) {
      validate = new Error(`tool "${tool.name}" has an invalid input schema: ${(err as Error).message}`);
    }
    compiled.set(tool, validate);
  }
  if (validate instanceof Error) throw new ArgumentError(validate.message);
  return validate;
}

export function checkArguments(tool: ToolDef, args: unknown): Record<string, unknown> {
  const value = args ?? {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ArgumentError(`invalid arguments for tool "${tool.name}": expected an object`);
  }
  const validate = validatorFor(tool);
  if (!validate(value)) {
    const problems = (validate.errors ?? []).map(describeError);
    throw new ArgumentError(`invalid arguments for tool "${tool.name}": ${[...new Set(problems)].join("; ")}`);
  }
  return value as Record<string, unknown>;
}

function describeError(e: ErrorObject): string {
  const where = e.instancePath ? `"${e.instancePath.slice(1).replaceAll("/", ".")}"` : "arguments";
  switch (e.keyword) {
    case "required":
      return `missing required argument "${(e.params as { missingProperty: string }).missingProperty}"`;
    case "additionalProperties":
      return `unknown argument "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    case "minimum":
    case "maximum":
      return `${where} is out of range (${e.message})`;
    default:
      return `${where} ${e.message ?? "is invalid"}`;
  }
}

export function toCallInput(tool: ToolDef, args: Record<string, unknown>): CallInput {
  const shape = tool.shape;
  switch (shape.pattern) {
    case "numeric":
      return {
        kind: "numeric",
        args: shape.argNames.map((name, i) => {
          const value = args[name] as number;
          return shape.params[i] === "i64" ? BigInt(value) : value;
        }),
      };
    case "ptr_len_to_i32":
    case "ptr_len_to_string":
      return { kind: "text", text: String(args[shape.argName]) };
    case "no_params_to_string":
      return { kind: "none" };
    case "extism":
      return { kind: "text", text: shape.input === "text" ? String(args.input) : JSON.stringify(args) };
  }
}
