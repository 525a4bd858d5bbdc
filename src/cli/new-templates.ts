// The files `wasmforge new NAME` writes: an AssemblyScript project whose build produces an Extism
// plugin that imports only extism:host/env. Kept as strings so `tsc` ships them in dist/.
// AssemblyScript and JavaScript sources use String.raw so their escapes reach the file unchanged.

/** Same version as this repo's devDependency (test/author-cli.test.ts checks they agree). */
export const ASSEMBLYSCRIPT_VERSION = "0.28.20";

export interface ScaffoldFile {
  path: string;
  content: string;
}

export function scaffoldFiles(name: string, dir: string): ScaffoldFile[] {
  return [
    { path: "package.json", content: packageJson(name) },
    { path: "asconfig.json", content: asconfig(name) },
    { path: "assembly/index.ts", content: indexTs(name) },
    { path: "assembly/pdk.ts", content: PDK_TS },
    { path: "watch.mjs", content: WATCH_MJS },
    { path: "wasmforge.toml", content: wasmforgeToml(name) },
    { path: "README.md", content: readme(name, dir) },
    { path: ".gitignore", content: "node_modules/\nbuild/\n" },
  ];
}

export function wasmPath(name: string): string {
  return `build/${name}.wasm`;
}

function packageJson(name: string): string {
  const pkg = {
    name,
    version: "0.1.0",
    private: true,
    description: "Tools for WasmForge, written in AssemblyScript (an Extism plugin)",
    type: "module",
    scripts: {
      build: "asc --config asconfig.json --target release",
      "build:watch": "node watch.mjs",
    },
    devDependencies: { assemblyscript: ASSEMBLYSCRIPT_VERSION },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

function asconfig(name: string): string {
  const config = {
    entries: ["assembly/index.ts"],
    // Both write the same file: watch mode favours fast rebuilds (and keeps function names for
    // trap messages), npm run build a small, optimized module.
    targets: {
      debug: { outFile: wasmPath(name), debug: true },
      release: { outFile: wasmPath(name), optimizeLevel: 2, shrinkLevel: 1 },
    },
    // AssemblyScript's abort would otherwise be imported from "env", which an Extism host lacks.
    options: { use: ["abort=assembly/pdk/abort"] },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

function indexTs(name: string): string {
  return String.raw`// ${name}: tools for WasmForge, written in AssemblyScript and built as an Extism plugin.
//
// Every exported function that takes no parameters and returns i32 is a tool. It reads its
// arguments (one JSON object) with input(), sets its answer with output(text) and returns 0,
// or returns fail("why") to report an error to the caller. Describe each tool's arguments in
// wasmforge.toml so clients know what to send.
import { input, output, fail, JsonField, Kind, jsonString } from "./pdk";

/** greet {"name":"Ada"} -> Hello, Ada! */
export function greet(): i32 {
  const args = new JsonField(input());
  const kind = args.find("name");
  if (kind == Kind.NotObject) return fail("greet: expected a JSON object like {\"name\":\"Ada\"}");
  let name = "world";
  if (kind == Kind.String) name = args.str;
  else if (kind != Kind.Missing) return fail("greet: \"name\" must be a string");
  output("Hello, " + name + "!");
  return 0;
}

/** word_count {"text":"one two three"} -> {"words":3,"characters":13,"text":"one two three"} */
export function word_count(): i32 {
  const args = new JsonField(input());
  if (args.find("text") != Kind.String) {
    return fail("word_count: expected a JSON object with a string field \"text\"");
  }
  const text = args.str;
  let words = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
    if (!space && !inWord) words++;
    inWord = !space;
  }
  output("{\"words\":" + words.toString() + ",\"characters\":" + text.length.toString() + ",\"text\":" + jsonString(text) + "}");
  return 0;
}
`;
}

const PDK_TS = String.raw`// pdk.ts: the few Extism host functions a tool needs, declared by hand, plus a small JSON reader.
// Only the extism:host/env functions every Extism host provides are used, so the module loads in
// WasmForge (and any other Extism host) with no other imports.

@external("extism:host/env", "input_length")
declare function input_length(): u64;
@external("extism:host/env", "input_load_u8")
declare function input_load_u8(offs: u64): u8;
@external("extism:host/env", "alloc")
declare function extism_alloc(n: u64): u64;
@external("extism:host/env", "store_u8")
declare function store_u8(offs: u64, v: u8): void;
@external("extism:host/env", "output_set")
declare function output_set(offs: u64, n: u64): void;
@external("extism:host/env", "error_set")
declare function error_set(offs: u64): void;

/** Replaces AssemblyScript's env.abort import (see "use" in asconfig.json): a failed assertion traps. */
export function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  unreachable();
}

/** The call's input (the tool's JSON arguments) as a string. */
export function input(): string {
  const n = <i32>input_length();
  const buf = new ArrayBuffer(n);
  const p = changetype<usize>(buf);
  for (let i = 0; i < n; i++) {
    store<u8>(p + <usize>i, input_load_u8(<u64>i));
  }
  return String.UTF8.decode(buf);
}

function toBlock(s: string): u64 {
  const buf = String.UTF8.encode(s);
  const n = buf.byteLength;
  const offs = extism_alloc(<u64>n);
  const p = changetype<usize>(buf);
  for (let i = 0; i < n; i++) {
    store_u8(offs + <u64>i, load<u8>(p + <usize>i));
  }
  return offs;
}

/** Sets the tool's answer. */
export function output(s: string): void {
  const offs = toBlock(s);
  output_set(offs, <u64>String.UTF8.byteLength(s));
}

/** Sets the error message the caller sees; return its result from the tool. */
export function fail(message: string): i32 {
  error_set(toBlock(message));
  return 1;
}

// ---------------------------------------------------------------- tiny JSON

/** What find() found for a top-level field of a JSON object. */
export const enum Kind {
  Missing = 0, // field not present
  String = 1, // value in .str
  Number = 2, // value in .num
  Other = 3, // true/false/null/object/array
  NotObject = 4, // the input is not a JSON object
}

function isWs(c: i32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
}

/** Reads top-level fields of a JSON object: find(key) sets kind, and str or num. */
export class JsonField {
  kind: Kind = Kind.Missing;
  str: string = "";
  num: f64 = 0;
  private s: string;
  private i: i32 = 0;

  constructor(json: string) {
    this.s = json.trim().length == 0 ? "{}" : json;
  }

  private peek(): i32 {
    return this.i < this.s.length ? this.s.charCodeAt(this.i) : -1;
  }

  private skipWs(): void {
    while (this.i < this.s.length && isWs(this.s.charCodeAt(this.i))) this.i++;
  }

  private readString(): string | null {
    if (this.peek() != 0x22) return null;
    this.i++;
    let out = "";
    let start = this.i;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c == 0x22) {
        out += this.s.substring(start, this.i);
        this.i++;
        return out;
      }
      if (c == 0x5c) {
        out += this.s.substring(start, this.i);
        this.i++;
        if (this.i >= this.s.length) return null;
        const e = this.s.charCodeAt(this.i);
        this.i++;
        if (e == 0x22) out += "\"";
        else if (e == 0x5c) out += "\\";
        else if (e == 0x2f) out += "/";
        else if (e == 0x62) out += "\b";
        else if (e == 0x66) out += "\f";
        else if (e == 0x6e) out += "\n";
        else if (e == 0x72) out += "\r";
        else if (e == 0x74) out += "\t";
        else if (e == 0x75) {
          if (this.i + 4 > this.s.length) return null;
          let code = 0;
          for (let k = 0; k < 4; k++) {
            const h = this.s.charCodeAt(this.i + k);
            let d: i32;
            if (h >= 0x30 && h <= 0x39) d = h - 0x30;
            else if (h >= 0x61 && h <= 0x66) d = h - 0x61 + 10;
            else if (h >= 0x41 && h <= 0x46) d = h - 0x41 + 10;
            else return null;
            code = (code << 4) | d;
          }
          this.i += 4;
          out += String.fromCharCode(code);
        } else return null;
        start = this.i;
        continue;
      }
      this.i++;
    }
    return null;
  }

  private skipValue(): bool {
    this.skipWs();
    const c = this.peek();
    if (c == 0x22) return this.readString() !== null;
    if (c == 0x7b || c == 0x5b) {
      let depth = 0;
      while (this.i < this.s.length) {
        const d = this.s.charCodeAt(this.i);
        if (d == 0x22) {
          if (this.readString() === null) return false;
          continue;
        }
        if (d == 0x7b || d == 0x5b) depth++;
        else if (d == 0x7d || d == 0x5d) {
          depth--;
          if (depth == 0) {
            this.i++;
            return true;
          }
        }
        this.i++;
      }
      return false;
    }
    const start = this.i;
    while (this.i < this.s.length) {
      const d = this.s.charCodeAt(this.i);
      if (d == 0x2c || d == 0x7d || d == 0x5d || isWs(d)) break;
      this.i++;
    }
    return this.i > start;
  }

  /** Looks up a top-level field; returns (and sets) kind. */
  find(key: string): Kind {
    this.i = 0;
    this.kind = Kind.Missing;
    this.skipWs();
    if (this.peek() != 0x7b) return (this.kind = Kind.NotObject);
    this.i++;
    this.skipWs();
    if (this.peek() == 0x7d) return this.kind;
    while (true) {
      this.skipWs();
      const k = this.readString();
      if (k === null) return (this.kind = Kind.NotObject);
      this.skipWs();
      if (this.peek() != 0x3a) return (this.kind = Kind.NotObject);
      this.i++;
      this.skipWs();
      if (k == key) {
        const c = this.peek();
        if (c == 0x22) {
          const v = this.readString();
          if (v === null) return (this.kind = Kind.NotObject);
          this.str = v;
          return (this.kind = Kind.String);
        }
        if (c == 0x2d || (c >= 0x30 && c <= 0x39)) {
          const start = this.i;
          if (!this.skipValue()) return (this.kind = Kind.NotObject);
          const n = parseFloat(this.s.substring(start, this.i));
          if (isNaN(n)) return (this.kind = Kind.Other);
          this.num = n;
          return (this.kind = Kind.Number);
        }
        if (!this.skipValue()) return (this.kind = Kind.NotObject);
        return (this.kind = Kind.Other);
      }
      if (!this.skipValue()) return (this.kind = Kind.NotObject);
      this.skipWs();
      const c = this.peek();
      if (c == 0x2c) {
        this.i++;
        continue;
      }
      if (c == 0x7d) return this.kind;
      return (this.kind = Kind.NotObject);
    }
  }
}

/** s as a JSON string literal, quotes included. */
export function jsonString(s: string): string {
  let out = "\"";
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | null = null;
    if (c == 0x22) esc = "\\\"";
    else if (c == 0x5c) esc = "\\\\";
    else if (c == 0x0a) esc = "\\n";
    else if (c == 0x0d) esc = "\\r";
    else if (c == 0x09) esc = "\\t";
    else if (c < 0x20) {
      const hex = "0123456789abcdef";
      esc = "\\u00" + hex.charAt(c >> 4) + hex.charAt(c & 15);
    }
    if (esc !== null) {
      out += s.substring(start, i) + esc;
      start = i + 1;
    }
  }
  return out + s.substring(start) + "\"";
}
`;

const WATCH_MJS = String.raw`// npm run build:watch: a quick debug build whenever a file under assembly/ or asconfig.json
// changes (asc has no watch mode of its own); npm run build makes the optimized one. The .wasm is written to a temporary file and renamed into
// place, so a running "wasmforge serve" never reads a half-written module.
import { watch } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";

process.chdir(dirname(fileURLToPath(import.meta.url)));

let timer;
let running = false;
let again = false;

async function build() {
  if (running) {
    again = true;
    return;
  }
  running = true;
  const started = Date.now();
  const { error } = await asc.main(["--config", "asconfig.json", "--target", "debug"], {
    stdout: process.stdout,
    stderr: process.stderr,
    writeFile: async (name, contents, baseDir) => {
      const file = resolve(baseDir, name);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file + ".tmp", contents);
      await rename(file + ".tmp", file);
    },
  });
  const time = new Date().toLocaleTimeString();
  if (error) console.error("[" + time + "] build failed (the last good build stays in place): " + error.message);
  else console.error("[" + time + "] built in " + (Date.now() - started) + " ms");
  running = false;
  if (again) {
    again = false;
    void build();
  }
}

// Editors save in bursts (write, rename, touch): build once per burst.
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(build, 100);
}

watch("assembly", { recursive: true }, schedule);
watch(".", (_event, file) => {
  if (file === "asconfig.json") schedule();
});
console.error("watching assembly/ and asconfig.json (Ctrl-C to stop)");
void build();
`;

function wasmforgeToml(name: string): string {
  return `# Serves this project's module: run "wasmforge serve" in this directory. It reloads
# ${wasmPath(name)} whenever the build rewrites it.
# To serve it beside other modules, copy the [[modules]] entry and its [[modules.tools]] into
# that config, with a path to the .wasm that is absolute or relative to that file.

[[modules]]
name = "${name}"
description = "${name} (AssemblyScript, Extism plugin)"
path = "${wasmPath(name)}"

# Extism tools take one JSON object; describe its fields so clients know what to send.
[[modules.tools]]
function_name = "greet"
description = "Greet someone by name"
arguments = [{ name = "name", type = "string", description = "Who to greet (default: world)", required = false }]

[[modules.tools]]
function_name = "word_count"
description = "Count the words and characters in a text"
arguments = [{ name = "text", type = "string", description = "The text to count" }]
`;
}

function readme(name: string, dir: string): string {
  const wasm = wasmPath(name);
  return `# ${name}

Tools for WasmForge (an MCP server that serves WebAssembly modules as tools),
written in AssemblyScript. The build produces \`${wasm}\`, an Extism plugin:
every exported function is a tool that takes one JSON object and answers with
text.

## From \`wasmforge new\` to a working tool

\`\`\`sh
npm install                                          # AssemblyScript (once)
npm run build                                        # assembly/*.ts -> ${wasm}
wasmforge call greet '{"name":"Ada"}'                # Hello, Ada!
wasmforge call word_count '{"text":"one two three"}' # {"words":3,...}
\`\`\`

\`wasmforge call\` reads \`wasmforge.toml\` in this directory and runs the tool
once, exactly as the server would; a tool error exits 1 with the message.

## The edit loop

\`\`\`sh
npm run build:watch      # terminal 1: rebuilds on every save
wasmforge serve          # or let your MCP client start it (below)
\`\`\`

\`wasmforge serve\` watches \`${wasm}\` and \`wasmforge.toml\`: after each rebuild it
swaps in the new version and tells connected clients that the tool list changed,
without restarting. A build that fails leaves the last good module serving.

Claude Desktop (\`claude_desktop_config.json\`):

\`\`\`json
{
  "mcpServers": {
    "${name}": { "command": "wasmforge", "args": ["serve", "--config", "${dir}/wasmforge.toml"] }
  }
}
\`\`\`

MCP Inspector: \`npx @modelcontextprotocol/inspector wasmforge serve --config ${dir}/wasmforge.toml\`

## Adding a tool

1. In \`assembly/index.ts\`, export a function \`(): i32\`: read the arguments with
   \`new JsonField(input())\`, answer with \`output(text)\` and return 0, or
   return \`fail("why")\`.
2. In \`wasmforge.toml\`, add a \`[[modules.tools]]\` entry with its description and
   \`arguments\` (or a full \`input_schema\`).
3. Check what WasmForge sees: \`wasmforge inspect ${wasm}\` (every export and
   import) and \`wasmforge tools\` (the tools with their schemas).

The module may import only \`extism:host/env\` functions (\`assembly/pdk.ts\`
declares the ones it uses). Library calls that need other host imports, such as
\`Math.random\` (\`env.seed\`) or \`Date.now\` (\`env.Date.now\`), make the module
fail to load: \`wasmforge tools\` names the missing imports, and \`wasmforge
inspect\` lists every import.
`;
}
