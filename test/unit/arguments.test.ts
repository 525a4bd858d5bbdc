// Argument checking: the one JSON Schema validator (src/core/json-schema.ts), 2020-12 unless a schema
// names another dialect, and what src/server/arguments.ts makes of its problems and of the values.

import { describe, expect, it } from "vitest";
import { compileSchema, dialectOf, problemsText, type JsonSchema } from "../../src/core/json-schema.js";
import { rawInputSchema } from "../../src/discovery/raw.js";
import type { CallShape, ToolDef } from "../../src/discovery/types.js";
import { ArgumentError, checkArguments, toCallInput } from "../../src/server/arguments.js";

const DRAFT_07 = "http://json-schema.org/draft-07/schema#";

const problems = (schema: JsonSchema, value: unknown) => compileSchema(schema)(value).map((p) => `${p.path || "(value)"} ${p.keyword}`);

function tool(shape: CallShape, inputSchema: JsonSchema = rawInputSchema(shape)): ToolDef {
  return { name: "t", description: "", module: "m", function: "f", shape, inputSchema };
}

/** What checkArguments and toCallInput make of `args`: the call input, or the ArgumentError's message. */
function argumentsFor(def: ToolDef, args: unknown): unknown {
  try {
    return toCallInput(def, checkArguments(def, args));
  } catch (err) {
    if (err instanceof ArgumentError) return err.message;
    throw err;
  }
}

describe("the JSON Schema dialect", () => {
  it("a schema without $schema is 2020-12: prefixItems, unevaluatedProperties and $defs/$ref apply", () => {
    const tuple = { type: "array", prefixItems: [{ type: "integer" }, { type: "string" }], items: false };
    expect(problems(tuple, [1, "a"])).toEqual([]);
    expect(problems(tuple, ["a", 1, 3])).toEqual(["/0 type", "/1 type", "(value) items"]);

    const closed = { type: "object", allOf: [{ properties: { a: { type: "integer" } } }], unevaluatedProperties: false };
    expect(problems(closed, { a: 1 })).toEqual([]);
    expect(compileSchema(closed)({ a: 1, b: 2 })).toEqual([
      { path: "", keyword: "unevaluatedProperties", message: "must NOT have unevaluated properties", params: { unevaluatedProperty: "b" } },
    ]);

    const referenced = { $defs: { positive: { type: "integer", minimum: 1 } }, type: "object", properties: { n: { $ref: "#/$defs/positive" } } };
    expect(problems(referenced, { n: 3 })).toEqual([]);
    expect(problems(referenced, { n: 0 })).toEqual(["/n minimum"]);
  });

  it("draft-07's array form of items is not 2020-12: such a schema is refused unless it names draft-07", () => {
    expect(() => compileSchema({ type: "array", items: [{ type: "integer" }] })).toThrow(/schema is invalid: data\/items must be object,boolean/);
    const draft07 = { $schema: DRAFT_07, type: "array", items: [{ type: "integer" }], additionalItems: false };
    expect(problems(draft07, [1])).toEqual([]);
    expect(problems(draft07, ["a", 2])).toEqual(["(value) additionalItems", "/0 type"]);
  });

  it("a schema naming draft-07 is read as draft-07: 2020-12 keywords mean nothing there", () => {
    expect(problems({ $schema: DRAFT_07, type: "array", prefixItems: [{ type: "integer" }] }, ["a"])).toEqual([]);
    const definitions = { $schema: DRAFT_07, definitions: { positive: { type: "integer", minimum: 1 } }, properties: { n: { $ref: "#/definitions/positive" } } };
    expect(problems(definitions, { n: 0 })).toEqual(["/n minimum"]);
  });

  it("dialectOf: drafts 04 to 07 are read as 07, 2019-09 as itself, anything else as 2020-12", () => {
    expect(dialectOf({ $schema: "http://json-schema.org/draft-04/schema#" })).toBe("draft-07");
    expect(dialectOf({ $schema: DRAFT_07 })).toBe("draft-07");
    expect(dialectOf({ $schema: "https://json-schema.org/draft/2019-09/schema" })).toBe("2019-09");
    expect(dialectOf({ $schema: "https://json-schema.org/draft/2020-12/schema" })).toBe("2020-12");
    expect(dialectOf({})).toBe("2020-12");
  });

  it("an invalid schema throws Ajv's reason; one $id compiles any number of times", () => {
    expect(() => compileSchema({ type: "nope" })).toThrow(/^schema is invalid: data\/type must be equal to one of the allowed values/);
    const identified = { $id: "https://example.com/tool.json", type: "integer" };
    expect(problems(identified, "a")).toEqual(["(value) type"]);
    expect(problems(identified, 1)).toEqual([]);
  });

  it("problemsText: one line, each problem with where it is", () => {
    const found = compileSchema({ type: "object", required: ["a"], properties: { b: { type: "string" } } })({ b: 1 });
    expect(problemsText(found)).toBe("(value) must have required property 'a'; /b must be string");
  });
});

describe("checkArguments and toCallInput", () => {
  const numeric = tool({ pattern: "numeric", params: ["i32", "i64", "f64"], argNames: ["a", "big", "x"], result: "i64" });
  const prefix = 'invalid arguments for tool "t": ';

  it("arguments must be an object; missing ones count as none given", () => {
    expect(argumentsFor(numeric, [])).toBe(`${prefix}expected an object`);
    expect(argumentsFor(numeric, "x")).toBe(`${prefix}expected an object`);
    expect(argumentsFor(numeric, undefined)).toBe(`${prefix}missing required argument "a"; missing required argument "big"; missing required argument "x"`);
  });

  it("each problem names the argument: missing, unknown, wrong type, out of range", () => {
    expect(argumentsFor(numeric, { a: 1 })).toBe(`${prefix}missing required argument "big"; missing required argument "x"`);
    expect(argumentsFor(numeric, { a: 1, big: 2, x: 1, c: 3 })).toBe(`${prefix}unknown argument "c"`);
    expect(argumentsFor(numeric, { a: "one", big: 2, x: 1 })).toBe(`${prefix}"a" must be integer`);
    expect(argumentsFor(numeric, { a: 2 ** 31, big: 2, x: 1 })).toBe(`${prefix}"a" is out of range (must be <= 2147483647)`);
    const nested = tool({ pattern: "extism" }, { type: "object", properties: { opts: { type: "object", properties: { x: { type: "integer" } } } } });
    expect(argumentsFor(nested, { opts: { x: "no" } })).toBe(`${prefix}"opts.x" must be integer`);
  });

  it("unevaluatedProperties in a plugin's schema is an unknown argument too", () => {
    const closed = tool({ pattern: "extism" }, { type: "object", properties: { text: { type: "string" } }, unevaluatedProperties: false });
    expect(argumentsFor(closed, { text: "hi", more: 1 })).toBe(`${prefix}unknown argument "more"`);
    expect(argumentsFor(closed, { text: "hi" })).toEqual({ kind: "text", text: '{"text":"hi"}' });
  });

  it("i64 arguments are exact: decimal strings beyond 2^53, numbers only within it", () => {
    expect(argumentsFor(numeric, { a: 1, big: "9223372036854775807", x: 1.5 })).toEqual({ kind: "numeric", args: [1, 9223372036854775807n, 1.5] });
    expect(argumentsFor(numeric, { a: 1, big: "-9223372036854775808", x: 0 })).toEqual({ kind: "numeric", args: [1, -9223372036854775808n, 0] });
    expect(argumentsFor(numeric, { a: 1, big: 42, x: 0 })).toEqual({ kind: "numeric", args: [1, 42n, 0] });
    // 2^60 as a JSON number has already lost its last digits: refused, the string form is the way.
    expect(argumentsFor(numeric, { a: 1, big: 2 ** 60, x: 0 })).toBe(`${prefix}"big" is out of range (must be <= 9007199254740991)`);
    expect(argumentsFor(numeric, { a: 1, big: "1.5", x: 0 })).toBe(`${prefix}"big" must match pattern "^-?[0-9]{1,19}$"`);
    expect(argumentsFor(numeric, { a: 1, big: "9223372036854775808", x: 0 })).toBe(
      '"big" is out of range (a 64-bit integer is -9223372036854775808 to 9223372036854775807)',
    );
  });

  it("strings go in as text; Extism plugins get the arguments as JSON, or `input` as it is", () => {
    expect(argumentsFor(tool({ pattern: "ptr_len_to_string", argName: "data" }), { data: "héllo" })).toEqual({ kind: "text", text: "héllo" });
    expect(argumentsFor(tool({ pattern: "no_params_to_string" }), {})).toEqual({ kind: "none" });
    const text = tool({ pattern: "extism", input: "text" }, { type: "object", properties: { input: { type: "string" } }, required: ["input"] });
    expect(argumentsFor(text, { input: "raw words" })).toEqual({ kind: "text", text: "raw words" });
    expect(argumentsFor(text, {})).toBe(`${prefix}missing required argument "input"`);
  });

  it("a tool whose input schema does not compile fails every call with the reason", () => {
    const broken = tool({ pattern: "extism" }, { type: "nope" });
    const message = /^tool "t" has an invalid input schema: schema is invalid: /;
    expect(argumentsFor(broken, {})).toMatch(message);
    expect(argumentsFor(broken, {})).toMatch(message);
  });
});
