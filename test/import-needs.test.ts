// `wasmforge import` of a WASImancer plugin that reads WASM_* config and makes HTTP requests:
// WASImancer filled that config from its environment and let every plugin reach any host, so the
// import carries the variables over and names the hosts the plugin's code calls.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "./helpers.js";
import { wat } from "./wat.js";

/** display() -> the value of config WASM_MESSAGE; it also imports http_request and names a URL. */
const DISPLAY = `(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "config_get" (func $config_get (param i64) (result i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/env" "http_request" (func $http_request (param i64 i64) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 16) "WASM_MESSAGE")
  (data (i32.const 64) "https://api.example.com/v1/things")
  (func (export "display") (result i32) (local $key i64) (local $i i32) (local $value i64)
    (local.set $key (call $alloc (i64.const 12)))
    (loop $copy
      (call $store_u8 (i64.add (local.get $key) (i64.extend_i32_u (local.get $i))) (i32.load8_u (i32.add (i32.const 16) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $copy (i32.lt_u (local.get $i) (i32.const 12))))
    (local.set $value (call $config_get (local.get $key)))
    (call $output_set (local.get $value) (call $length (local.get $value)))
    (i32.const 0)))`;

const PLUGINS = `plugins:
  - name: display
    path: /display/plugin.wasm
    version: 1.0.0
    description: shows its config
    functions:
      - displayName: display
        function: display
        description: shows WASM_MESSAGE
`;

describe("wasmforge import, what a WASImancer plugin needs", () => {
  let dir: string;
  beforeAll(async () => {
    dir = tempDir("wasmforge-import-needs-");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(dir, "plugins", "display"), { recursive: true });
    writeFileSync(join(dir, "plugins", "display", "plugin.wasm"), wat(DISPLAY));
    writeFileSync(join(dir, "plugins", "plugins.yml"), PLUGINS);
  });

  it("carries WASM_* variables from the environment into config, and the tool reads them", async () => {
    const imported = await runCli(["import", "plugins/plugins.yml"], { cwd: dir, env: { WASM_MESSAGE: "hello world" } });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toMatch(/carried WASM_MESSAGE from the environment into every module's config/);
    const toml = parseToml(imported.stdout) as { modules: { config?: Record<string, string> }[] };
    expect(toml.modules[0]!.config).toEqual({ WASM_MESSAGE: "hello world" });
    writeFileSync(join(dir, "wasmforge.toml"), imported.stdout);
    expect(await runCli(["call", "display", "-c", join(dir, "wasmforge.toml")], { env: { WASM_MESSAGE: "" } })).toMatchObject({ code: 0, stdout: "hello world\n" });
  });

  it("without them, says which WASM_* keys the plugin reads and what to add", async () => {
    const env = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith("WASM_")).map((k) => [k, ""]));
    const imported = await runCli(["import", "plugins/plugins.yml"], { cwd: dir, env });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toMatch(/module "display" reads config WASM_MESSAGE, which WASImancer filled from WASM_\* environment variables.*add config = \{ WASM_MESSAGE = "…" \}/);
  });

  it("names the hosts the plugin's code calls instead of a placeholder", async () => {
    const imported = await runCli(["import", "plugins/plugins.yml"], { cwd: dir });
    expect(imported.stderr).toMatch(/module "display" makes HTTP requests.*add allowed_hosts = \["api\.example\.com"\] to it/);
    expect(imported.stderr).not.toMatch(/example\.com"\] to modules that make HTTP requests/);
  });
});
