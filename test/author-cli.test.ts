// The module author's commands: inspect, tools, call and new, run through the built CLI.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, type ExpectStatic } from "vitest";
import { MODULES, ROOT, moduleEntry, runCli, tempDir, writeConfig } from "./helpers.js";

const DEFAULT_CONFIG = join(ROOT, "wasmforge.toml");

interface InspectJson {
  extism: boolean;
  abi: string;
  exports: { name: string; signature: string; tool: string | null; pattern: string | null; rule: string }[];
  imports: { module: string; name: string; kind: string }[];
  memories: { minPages: number; maxPages?: number; imported: boolean }[];
  tools: { name: string; pattern: string; inputSchema: Record<string, unknown> }[];
}

async function inspectJson(file: string, expect: ExpectStatic): Promise<InspectJson> {
  const { code, stdout, stderr } = await runCli(["inspect", file, "--json"]);
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout) as InspectJson;
}

describe.concurrent("wasmforge inspect", () => {
  it("prints every export of a plain module with its signature and the pattern it matched", async ({ expect }) => {
    const { code, stdout, stderr } = await runCli(["inspect", join(MODULES, "example.wasm")]);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    expect(stdout).toContain("not an Extism plugin");
    expect(stdout).toMatch(/add\(a: i32, b: i32\) -> i32\n\s+tool "add", pattern i32_i32_to_i32/);
    expect(stdout).toMatch(/validate_url\(ptr: i32, len: i32\) -> i32\n\s+tool "validate_url", pattern ptr_len_to_i32: parameter names \(ptr, len\) mark a string/);
    expect(stdout).toMatch(/Memories \(1\):\n\s+own: minimum 1 page/);
    expect(stdout).toMatch(/Imports \(0\):\n\s+none/);
  });

  it("--json gives patterns, rules and schemas for scripts", async ({ expect }) => {
    const report = await inspectJson(join(MODULES, "example.wasm"), expect);
    expect(report.extism).toBe(false);
    const byName = new Map(report.exports.map((e) => [e.name, e]));
    expect(byName.get("add")).toMatchObject({ signature: "(a: i32, b: i32) -> i32", tool: "add", pattern: "i32_i32_to_i32" });
    expect(byName.get("validate_url")).toMatchObject({ tool: "validate_url", pattern: "ptr_len_to_i32" });
    expect(byName.get("validate_url")!.rule).toMatch(/parameter names \(ptr, len\)/);
    expect(byName.get("fib")).toMatchObject({ signature: "(n: i64) -> i64", pattern: "numeric" });
    expect(report.tools.find((t) => t.name === "add")!.inputSchema).toMatchObject({ required: ["a", "b"] });
  });

  it("says why runtime exports are skipped", async ({ expect }) => {
    const report = await inspectJson(join(MODULES, "text.wasm"), expect);
    const alloc = report.exports.find((e) => e.name === "alloc")!;
    expect(alloc).toMatchObject({ tool: null, pattern: null });
    expect(alloc.rule).toMatch(/runtime export/);
    expect(report.exports.find((e) => e.name === "describe_url")).toMatchObject({ pattern: "ptr_len_to_string" });
  });

  it("recognises an Extism plugin and lists its extism:host/env imports", async ({ expect }) => {
    const { code, stdout } = await runCli(["inspect", join(MODULES, "text-plugin.wasm")]);
    expect(code).toBe(0);
    expect(stdout).toContain("Extism plugin (imports extism:host/env)");
    expect(stdout).toMatch(/count_vowels\(\) -> i32\n\s+tool "count_vowels", pattern extism/);
    expect(stdout).toContain("extism:host/env.output_set function (i64, i64) -> ()");

    const report = await inspectJson(join(MODULES, "modern-plugin.wasm"), expect);
    expect(report.extism).toBe(true);
    expect(report.exports.find((e) => e.name === "_start")).toMatchObject({ tool: null, rule: "runtime export" });
    expect(report.tools.map((t) => t.name).sort()).toEqual(["echo", "shout"]);
    expect(report.imports).toContainEqual(expect.objectContaining({ module: "wasi_snapshot_preview1", kind: "function" }));
  });

  it("rejects what is not a wasm module with a clear message and exit 1", async ({ expect }) => {
    const notWasm = await runCli(["inspect", join(ROOT, "package.json")]);
    expect(notWasm.code).toBe(1);
    expect(notWasm.stdout).toBe("");
    expect(notWasm.stderr).toMatch(/package\.json: not a WebAssembly module \(missing \\0asm header\)/);

    const missing = await runCli(["inspect", join(ROOT, "no-such-module.wasm")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("file not found");

    const wat = await runCli(["inspect", join(ROOT, "modules", "example.wat")]);
    expect(wat.code).toBe(1);
    expect(wat.stderr).toContain("WebAssembly text (.wat); compile it");

    const truncated = join(tempDir(), "truncated.wasm");
    writeFileSync(truncated, readFileSync(join(MODULES, "example.wasm")).subarray(0, 100));
    const cut = await runCli(["inspect", truncated]);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(/truncated\.wasm: not a valid WebAssembly module: .*truncated/);
  });
});

describe.concurrent("wasmforge tools", () => {
  it("--json lists the default config's tools with module, pattern and input schema", async ({ expect }) => {
    const { code, stdout, stderr } = await runCli(["tools", "--config", DEFAULT_CONFIG, "--json"]);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as { config: string; tools: { name: string; module: string; pattern: string; inputSchema: Record<string, unknown> }[]; failures: unknown[] };
    expect(report.config).toBe(DEFAULT_CONFIG);
    expect(report.failures).toEqual([]);
    const byName = new Map(report.tools.map((t) => [t.name, t]));
    expect(byName.get("add")).toMatchObject({ module: "example", pattern: "i32_i32_to_i32", inputSchema: { required: ["a", "b"] } });
    expect(byName.get("validate_url")).toMatchObject({ module: "example", pattern: "ptr_len_to_i32" });
    expect(byName.get("count_vowels")).toMatchObject({ module: "text-plugin", pattern: "extism", inputSchema: { required: ["text"] } });
  });

  it("prints one readable entry per tool", async ({ expect }) => {
    const { code, stdout } = await runCli(["tools", "--config", DEFAULT_CONFIG]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^add {2}\(module example, export add, pattern i32_i32_to_i32\)\n\s+Add two 32-bit integers\n\s+arguments: a: integer, b: integer$/m);
    expect(stdout).toMatch(/^roll_dice .*\n.*\n\s+arguments: sides\?: integer, count\?: integer, seed\?: integer$/m);
  });

  it("reports a module that does not load, and exits 1", async ({ expect }) => {
    const dir = tempDir();
    writeFileSync(join(dir, "broken.wasm"), "not wasm at all");
    const config = writeConfig(`${moduleEntry("example", "example.wasm")}\n[[modules]]\nname = "broken"\npath = "broken.wasm"\n`, dir);
    const human = await runCli(["tools", "--config", config]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^add /m);
    expect(human.stdout).toMatch(/Not served \(1\):\n\s+module "broken" \(.*broken\.wasm\): not a valid WebAssembly module/);
    const json = await runCli(["tools", "--config", config, "--json"]);
    expect(json.code).toBe(1);
    expect((JSON.parse(json.stdout) as { failures: { module: string }[] }).failures).toEqual([expect.objectContaining({ module: "broken" })]);
  });
});

describe.concurrent("wasmforge call", () => {
  it("prints a tool's result, and the whole MCP result with --json", async ({ expect }) => {
    const plain = await runCli(["call", "add", '{"a":5,"b":3}', "--config", DEFAULT_CONFIG]);
    expect(plain).toMatchObject({ code: 0, stdout: "8\n" });
    const json = await runCli(["call", "add", '{"a":5,"b":3}', "--config", DEFAULT_CONFIG, "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ content: [{ type: "text", text: "8" }], structuredContent: { result: 8 } });
  });

  it("runs string and Extism tools, reading arguments from stdin with -", async ({ expect }) => {
    expect(await runCli(["call", "validate_url", '{"data":"https://example.com"}', "--config", DEFAULT_CONFIG])).toMatchObject({ code: 0, stdout: "1\n" });
    const vowels = await runCli(["call", "count_vowels", "-", "--config", DEFAULT_CONFIG], { input: '{"text":"hello world"}' });
    expect(vowels).toMatchObject({ code: 0, stdout: '{"count":3,"text":"hello world"}\n' });
    expect(await runCli(["call", "answer"], { cwd: ROOT })).toMatchObject({ code: 0, stdout: "42\n" });
  });

  it("an unknown tool exits 1 and names the tools that exist", async ({ expect }) => {
    const { code, stdout, stderr } = await runCli(["call", "no_such_tool", "--config", DEFAULT_CONFIG]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/unknown tool "no_such_tool" in .*wasmforge\.toml: it serves: add, answer/);
  });

  it("bad JSON arguments exit 1 saying what is wrong, before anything loads", async ({ expect }) => {
    const broken = await runCli(["call", "add", "{a:5}", "--config", DEFAULT_CONFIG]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/JSON_ARGS is not valid JSON \(.*position 1\): \{a:5\}/);
    const array = await runCli(["call", "add", "[5,3]", "--config", DEFAULT_CONFIG]);
    expect(array.code).toBe(1);
    expect(array.stderr).toContain("JSON_ARGS must be a JSON object of named arguments");
    expect(array.stderr).toContain("got an array");
    const wrongType = await runCli(["call", "add", '{"a":"five","b":3}', "--config", DEFAULT_CONFIG]);
    expect(wrongType.code).toBe(1);
    expect(wrongType.stderr).toContain('invalid arguments for tool "add": "a" must be integer');
  });

  it("a tool error exits 1 with the plugin's message on stderr", async ({ expect }) => {
    const failed = await runCli(["call", "always_fail", "--config", DEFAULT_CONFIG]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe("");
    expect(failed.stderr).toContain("always_fail: this tool fails on purpose");
    const trapped = await runCli(["call", "crash", "--config", DEFAULT_CONFIG]);
    expect(trapped.code).toBe(1);
    expect(trapped.stderr).toContain('tool "crash" failed');
  });
});

/** Runs a command to completion (no shell); resolves with its exit code and output. */
function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code, output }));
  });
}

describe.concurrent("wasmforge new", () => {
  it("refuses a name that cannot be a package or file name, and a directory in use", async ({ expect }) => {
    const bad = await runCli(["new", "My Tools"], { cwd: tempDir() });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('project name "My Tools" is not allowed');
    const used = tempDir();
    writeFileSync(join(used, "keep.txt"), "mine");
    const taken = await runCli(["new", "tools", "--dir", used]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain("already exists and is not empty");
    expect(readFileSync(join(used, "keep.txt"), "utf8")).toBe("mine");
  });

  it("scaffolds a project whose own build produces a module that wasmforge call runs, and whose watch build reloads", async ({ expect }) => {
    const parent = tempDir();
    const created = await runCli(["new", "hello-tools"], { cwd: parent });
    expect(created.code, created.stderr).toBe(0);
    const dir = join(parent, "hello-tools");
    expect(created.stdout).toContain(`Created ${dir}`);
    for (const file of ["package.json", "asconfig.json", "assembly/index.ts", "assembly/pdk.ts", "watch.mjs", "wasmforge.toml", "README.md", ".gitignore"]) {
      expect(existsSync(join(dir, file)), file).toBe(true);
    }
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { scripts: Record<string, string>; devDependencies: Record<string, string> };
    const ours = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
    expect(pkg.devDependencies.assemblyscript).toBe(ours.devDependencies.assemblyscript!.replace(/^[\^~]/, ""));
    const readme = readFileSync(join(dir, "README.md"), "utf8");
    for (const step of ["npm install", "npm run build", `wasmforge call greet '{"name":"Ada"}'`, "npm run build:watch", "wasmforge serve"]) {
      expect(readme).toContain(step);
    }
    // The Inspector takes --config itself unless `--` ends its options.
    expect(readme).toContain(`npx @modelcontextprotocol/inspector -- wasmforge serve --config ${dir}/wasmforge.toml`);
    // The scaffold's PDK is the file WasmForge's own plugins are built with.
    expect(readFileSync(join(dir, "assembly", "pdk.ts"), "utf8")).toBe(readFileSync(join(ROOT, "modules", "extism", "pdk.ts"), "utf8"));

    // Stand-in for `npm install`: this repo's node_modules has the same AssemblyScript, offline.
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
    const build = await run("npm", ["run", "build"], dir);
    expect(build.code, build.output).toBe(0);
    expect(existsSync(join(dir, "build", "hello-tools.wasm"))).toBe(true);

    expect(await runCli(["call", "greet", '{"name":"Ada"}'], { cwd: dir })).toMatchObject({ code: 0, stdout: "Hello, Ada!\n" });
    const counted = await runCli(["call", "word_count", '{"text":"one two three"}', "--config", join(dir, "wasmforge.toml")]);
    expect(counted.code, counted.stderr).toBe(0);
    expect(JSON.parse(counted.stdout)).toEqual({ words: 3, characters: 13, text: "one two three" });
    const refused = await runCli(["call", "word_count", "{}"], { cwd: dir });
    expect(refused.code).toBe(1);
    // The config's `arguments` describe the tool, so a call without "text" never reaches the module.
    expect(refused.stderr).toContain('invalid arguments for tool "word_count": missing required argument "text"');

    const inspected = await inspectJson(join(dir, "build", "hello-tools.wasm"), expect);
    expect(inspected.extism).toBe(true);
    expect(new Set(inspected.imports.map((i) => i.module))).toEqual(new Set(["extism:host/env"]));

    // The watch loop: an edit to the source rebuilds the module, and the next call sees it.
    let watcher: ChildProcess | undefined;
    try {
      watcher = spawn("npm", ["run", "build:watch"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"], detached: true });
      let log = "";
      watcher.stderr!.on("data", (c: Buffer) => (log += c.toString()));
      const builds = () => log.match(/built in \d+ ms/g)?.length ?? 0;
      // A build of the scaffold takes seconds, more on a loaded machine.
      await expect.poll(builds, { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
      const source = join(dir, "assembly", "index.ts");
      writeFileSync(source, readFileSync(source, "utf8").replace('"Hello, "', '"Howdy, "'));
      await expect.poll(builds, { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
      expect(await runCli(["call", "greet", '{"name":"Ada"}'], { cwd: dir })).toMatchObject({ code: 0, stdout: "Howdy, Ada!\n" });
    } finally {
      // npm runs the watcher as its child: end the whole group this test started.
      if (watcher?.pid) process.kill(-watcher.pid, "SIGTERM");
      // Removes the node_modules link, not what it points to.
      rmSync(parent, { recursive: true, force: true });
    }
  }, 120_000);
});
