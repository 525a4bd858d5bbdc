// {{name}}: tools for WasmForge, written in AssemblyScript and built as an Extism plugin.
//
// Every exported function that takes no parameters and returns i32 is a tool. It starts with
// beginCall(), reads its arguments (one JSON object) with inputString(), sets its answer with
// outputString(text) and returns 0, or returns fail("why") to report an error to the caller.
// Describe each tool's arguments in wasmforge.toml so clients know what to send.
import { beginCall, fail, inputString, JsonField, jsonString, Kind, outputString } from "./pdk";

/** greet {"name":"Ada"} -> Hello, Ada! */
export function greet(): i32 {
  beginCall();
  const args = new JsonField(inputString());
  const kind = args.find("name");
  if (kind == Kind.NotObject) return fail('greet: expected a JSON object like {"name":"Ada"}');
  let name = "world";
  if (kind == Kind.String) name = args.str;
  else if (kind != Kind.Missing) return fail('greet: "name" must be a string');
  outputString("Hello, " + name + "!");
  return 0;
}

/** word_count {"text":"one two three"} -> {"words":3,"characters":13,"text":"one two three"} */
export function word_count(): i32 {
  beginCall();
  const args = new JsonField(inputString());
  if (args.find("text") != Kind.String) return fail('word_count: expected a JSON object with a string field "text"');
  const text = args.str;
  let words = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
    if (!space && !inWord) words++;
    inWord = !space;
  }
  outputString('{"words":' + words.toString() + ',"characters":' + text.length.toString() + ',"text":' + jsonString(text) + "}");
  return 0;
}
