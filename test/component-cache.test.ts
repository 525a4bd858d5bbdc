// The transpiled form of a component is cached by content hash beside the download cache: a
// restart neither transpiles again nor loads jco-transpile, a changed entry is never used, and the
// cache commands list and remove only what WasmForge wrote. A config without components never
// loads the component runtime at all.

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { moduleEntry, MODULES, ROOT, runCli, tempDir, writeConfig } from "./helpers.js";

const TRACE_HOOK = join(ROOT, "test", "trace-imports.mjs");

/** Runs the CLI, recording which @bytecodealliance packages any of its threads imported. */
async function traced(args: string[], input?: string) {
  const trace = join(tempDir("wasmforge-trace-"), "imports.txt");
  const run = await runCli(args, { input, timeoutMs: 60_000, env: { NODE_OPTIONS: `--import ${TRACE_HOOK}`, WASMFORGE_TRACE_IMPORTS: trace } });
  return { ...run, imported: existsSync(trace) ? readFileSync(trace, "utf8").trim().split("\n") : [] };
}

describe("the transpiled-component cache", () => {
  it("transpiles once; a restart reads the cache without loading jco-transpile", async () => {
    const cache = join(tempDir("wasmforge-ccache-"), "cache");
    const config = writeConfig(`[cache]\ndirectory = "${cache}"\n${moduleEntry("kitchen", join(MODULES, "components", "kitchen.wasm"))}`);
    const first = await traced(["--log-level", "info", "tools", "--config", config]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/module "kitchen": transpiling the component/);
    expect(first.imported).toContain("@bytecodealliance/jco-transpile");
    const [entry] = readdirSync(join(cache, "components"));
    expect(entry).toMatch(/^[0-9a-f]{64}-[0-9a-f]{12}$/);
    const manifest = JSON.parse(readFileSync(join(cache, "components", entry!, "manifest.json"), "utf8")) as { sha256: string; entry: string };
    expect(manifest).toMatchObject({ sha256: entry!.slice(0, 64), entry: "component.js" });

    const again = await traced(["--log-level", "debug", "tools", "--config", config]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/transpiling/);
    expect(again.stderr).toMatch(/transpiled component [0-9a-f]{12} from the cache/);
    expect(again.imported).not.toContain("@bytecodealliance/jco-transpile");
    expect(again.stdout).toContain("wasmforge_kitchen_types_0_1_0_divide");
  }, 90_000);

  it("a changed entry is thrown away and the component transpiled again", async () => {
    const cache = join(tempDir("wasmforge-ccache-"), "cache");
    const config = writeConfig(`[cache]\ndirectory = "${cache}"\n${moduleEntry("kitchen", join(MODULES, "components", "kitchen.wasm"))}`);
    expect((await runCli(["tools", "--config", config], { timeoutMs: 60_000 })).code).toBe(0);
    const [entry] = readdirSync(join(cache, "components"));
    writeFileSync(join(cache, "components", entry!, "component.js"), "export function instantiate() { throw new Error('tampered'); }\n");
    const call = await runCli(["--log-level", "info", "call", "add", '{"a": 2, "b": 3}', "--config", config], { timeoutMs: 60_000 });
    expect(call.stderr).toMatch(/component\.js is missing or changed since it was written; transpiling the component again/);
    expect(call.stdout.trim()).toBe("5");
  }, 90_000);

  it("cache list shows transpiled components; cache clear removes them and nothing it did not write", async () => {
    const cache = join(tempDir("wasmforge-ccache-"), "cache");
    const config = writeConfig(`[cache]\ndirectory = "${cache}"\n${moduleEntry("net", join(MODULES, "components", "netprobe.wasm"))}`);
    expect((await runCli(["tools", "--config", config], { timeoutMs: 60_000 })).code).toBe(0);
    const foreign = join(cache, "components", "f".repeat(64) + "-" + "0".repeat(12));
    mkdirSync(foreign);
    writeFileSync(join(foreign, "notes.txt"), "someone else's\n");
    const list = await runCli(["cache", "list", "--config", config]);
    expect(list.stdout).toMatch(/^[0-9a-f]{64}\s+[\d.]+ KiB\s+\S+\s+transpiled component \(jco-transpile 0\.15\.0\)$/m);
    expect(list.stdout.split("\n").filter((l) => l.includes("transpiled component"))).toHaveLength(1);
    const clear = await runCli(["cache", "clear", "--config", config]);
    expect(clear.stdout).toContain("removed 1 transpiled component");
    expect(readdirSync(join(cache, "components"))).toEqual([`${"f".repeat(64)}-${"0".repeat(12)}`]);
    expect(existsSync(join(foreign, "notes.txt"))).toBe(true);
  }, 90_000);
});

describe("a config without components", () => {
  it("serves and answers without ever loading jco-transpile or preview2-shim", async () => {
    const config = writeConfig([moduleEntry("math", "example.wasm"), moduleEntry("text", "text-plugin.wasm")].join("\n"));
    const input = [
      '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
      '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":5,"b":3}}}',
      '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"count_vowels","arguments":{"text":"component"}}}',
    ].join("\n");
    const run = await traced(["serve", "--config", config, "--no-watch"], `${input}\n`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('"text":"8"');
    expect(run.imported).toEqual([]);
  }, 60_000);
});
