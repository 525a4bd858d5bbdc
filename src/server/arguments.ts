// Checks a call's arguments against the tool's input schema and turns them into wasm inputs.

import { compileSchema, type SchemaProblem, type Validator } from "../core/json-schema.js";
import type { ToolDef } from "../discovery/types.js";
import type { CallInput } from "../runtime/protocol.js";

const compiled = new WeakMap<ToolDef, Validator | Error>();

export class ArgumentError extends Error {}

function validatorFor(tool: ToolDef): Validator {
  let validate = compiled.get(tool);
  if (!validate) {
    try {
      validate = compileSchema(tool.inputSchema);
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
  const problems = validatorFor(tool)(value);
  if (problems.length > 0) {
    throw new ArgumentError(`invalid arguments for tool "${tool.name}": ${[...new Set(problems.map(describeProblem))].join("; ")}`);
  }
  return value as Record<string, unknown>;
}

function describeProblem(p: SchemaProblem): string {
  const where = p.path ? `"${p.path.slice(1).replaceAll("/", ".")}"` : "arguments";
  switch (p.keyword) {
    case "required":
      return `missing required argument "${String(p.params.missingProperty)}"`;
    case "additionalProperties":
      return `unknown argument "${String(p.params.additionalProperty)}"`;
    case "unevaluatedProperties":
      return `unknown argument "${String(p.params.unevaluatedProperty)}"`;
    case "minimum":
    case "maximum":
      return `${where} is out of range (${p.message})`;
    default:
      return `${where} ${p.message}`;
  }
}

export function toCallInput(tool: ToolDef, args: Record<string, unknown>): CallInput {
  const shape = tool.shape;
  switch (shape.pattern) {
    case "numeric":
      return {
        kind: "numeric",
        args: shape.argNames.map((name, i) => {
          const value = args[name] as number | string;
          return shape.params[i] === "i64" ? toI64(name, value) : (value as number);
        }),
      };
    case "ptr_len_to_i32":
    case "ptr_len_to_string":
      return { kind: "text", text: String(args[shape.argName]) };
    case "no_params_to_string":
      return { kind: "none" };
    case "extism":
      return { kind: "text", text: shape.input === "text" ? String(args.input) : JSON.stringify(args) };
    case "component":
      return { kind: "json", args };
  }
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** An i64 argument, exact: a safe-range number or a decimal string (the schema checked its form). */
function toI64(name: string, value: number | string): bigint {
  const n = BigInt(value);
  if (n < I64_MIN || n > I64_MAX) throw new ArgumentError(`"${name}" is out of range (a 64-bit integer is -9223372036854775808 to 9223372036854775807)`);
  return n;
}
