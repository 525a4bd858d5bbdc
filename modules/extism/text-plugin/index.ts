// text-plugin — an Extism plugin written in AssemblyScript: JSON in, text out.
//
//   count_vowels  {"text":"..."}                  -> {"count":N,"text":"..."}
//   roll_dice     {"sides":6,"count":1,"seed":42} -> {"rolls":[..],"total":N}
//   greet         {"name":"Ada"}                  -> Hello, Ada!
//
// Every export takes no parameters and returns 0 on success or 1 after
// setting an error message with error_set.
import { beginCall, inputString, outputString, fail, JsonField, Kind, jsonString } from "../pdk";

export function count_vowels(): i32 {
  beginCall();
  const field = new JsonField(inputString());
  if (field.find("text") != Kind.String) {
    return fail("count_vowels: expected a JSON object with a string field \"text\"");
  }
  const text = field.str;
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) | 0x20; // ASCII lower-case
    if (c == 0x61 || c == 0x65 || c == 0x69 || c == 0x6f || c == 0x75) count++;
  }
  outputString("{\"count\":" + count.toString() + ",\"text\":" + jsonString(text) + "}");
  return 0;
}

/** Read an optional integer field in [min, max]; returns i64.MIN_VALUE on error. */
function intField(field: JsonField, key: string, dflt: i64, min: i64, max: i64): i64 {
  const kind = field.find(key);
  if (kind == Kind.Missing) return dflt;
  if (kind != Kind.Number) return i64.MIN_VALUE;
  const n = field.num;
  if (Math.floor(n) != n || n < <f64>min || n > <f64>max) return i64.MIN_VALUE;
  return <i64>n;
}

export function roll_dice(): i32 {
  beginCall();
  let input = inputString();
  if (input.trim().length == 0) input = "{}";
  const field = new JsonField(input);
  if (field.find("sides") == Kind.NotObject) {
    return fail("roll_dice: expected a JSON object like {\"sides\":6,\"count\":2,\"seed\":7}");
  }
  const sides = intField(field, "sides", 6, 1, 1000);
  if (sides == i64.MIN_VALUE) return fail("roll_dice: \"sides\" must be an integer from 1 to 1000");
  const count = intField(field, "count", 1, 1, 100);
  if (count == i64.MIN_VALUE) return fail("roll_dice: \"count\" must be an integer from 1 to 100");
  const seed = intField(field, "seed", 42, -9007199254740991, 9007199254740991);
  if (seed == i64.MIN_VALUE) return fail("roll_dice: \"seed\" must be an integer");

  // splitmix64: deterministic for a given seed
  let state = <u64>seed;
  let out = "{\"rolls\":[";
  let total: i64 = 0;
  for (let i: i64 = 0; i < count; i++) {
    state += 0x9e3779b97f4a7c15;
    let z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    z = z ^ (z >> 31);
    const roll = <i64>(z % <u64>sides) + 1;
    total += roll;
    if (i > 0) out += ",";
    out += roll.toString();
  }
  outputString(out + "],\"total\":" + total.toString() + "}");
  return 0;
}

export function greet(): i32 {
  beginCall();
  let input = inputString();
  if (input.trim().length == 0) input = "{}";
  const field = new JsonField(input);
  const kind = field.find("name");
  if (kind == Kind.NotObject) return fail("greet: expected a JSON object like {\"name\":\"Ada\"}");
  let name = "world";
  if (kind == Kind.String) name = field.str;
  else if (kind != Kind.Missing) return fail("greet: \"name\" must be a string");
  outputString("Hello, " + name + "!");
  return 0;
}
