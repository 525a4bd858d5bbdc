// The tools of the bare SDK servers the benchmarks compare WasmForge with (bench/baseline-server.mjs
// on the v2 SDK, bench/baseline-server-v1.mjs on the v1 SDK): plain JavaScript equivalents of add,
// validate_url and count_vowels, listed with the names, schemas and result shapes WasmForge gives
// them (wasmforge.toml), so both sides send and parse the same bytes.

export const INFO = { name: "baseline", version: "1.0.0" };

const I32 = { type: "integer", minimum: -2147483648, maximum: 2147483647, description: "i32 parameter" };
const INTEGER_RESULT = { type: "object", properties: { result: { type: "integer" } }, required: ["result"] };

export const TOOLS = [
  {
    name: "add",
    description: "Add two 32-bit integers",
    inputSchema: { type: "object", properties: { a: I32, b: I32 }, required: ["a", "b"], additionalProperties: false },
    outputSchema: INTEGER_RESULT,
  },
  {
    name: "validate_url",
    description: "1 if the text is an http(s) URL with a host and no spaces, else 0",
    inputSchema: {
      type: "object",
      properties: { data: { type: "string", description: "Text passed to the function as UTF-8 bytes" } },
      required: ["data"],
      additionalProperties: false,
    },
    outputSchema: INTEGER_RESULT,
  },
  {
    name: "count_vowels",
    description: "Count the vowels in a text",
    inputSchema: { type: "object", properties: { text: { type: "string", description: "Text to count vowels in" } }, required: ["text"] },
  },
];

export const add = (a, b) => (a + b) | 0;

export function validateUrl(data) {
  const rest = data.startsWith("http://") ? data.slice(7) : data.startsWith("https://") ? data.slice(8) : undefined;
  if (rest === undefined || rest === "" || rest[0] === "/") return 0;
  return /[\x00-\x20\x7f]/.test(data) ? 0 : 1;
}

export function countVowels(text) {
  let count = 0;
  for (const c of text.toLowerCase()) if ("aeiou".includes(c)) count++;
  return JSON.stringify({ count, text });
}

export const numberResult = (n) => ({ content: [{ type: "text", text: String(n) }], structuredContent: { result: n } });
export const textResult = (text) => ({ content: [{ type: "text", text }] });
const argError = (message) => ({ isError: true, content: [{ type: "text", text: message }] });
const isI32 = (v) => Number.isInteger(v) && v >= -2147483648 && v <= 2147483647;

/** The result of calling tool `name`, checking its arguments by hand; undefined for an unknown tool. */
export function callTool(name, args = {}) {
  switch (name) {
    case "add":
      return isI32(args.a) && isI32(args.b) ? numberResult(add(args.a, args.b)) : argError("a and b must be 32-bit integers");
    case "validate_url":
      return typeof args.data === "string" ? numberResult(validateUrl(args.data)) : argError("data must be a string");
    case "count_vowels":
      return typeof args.text === "string" ? textResult(countVowels(args.text)) : argError("text must be a string");
    default:
      return undefined;
  }
}
