// `wasmforge import` of a hyper-mcp config: both of hyper-mcp's shapes (the plugins map, and the
// older list), in JSON, YAML and TOML, become a wasmforge.toml that serves the tool names hyper-mcp
// served. Plugins here are local files (file://); oci:// pulls are tested in test/infra/oci.test.ts.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { MODULES, runCli, tempDir, textOf, withServer } from "./helpers.js";

const servlet = pathToFileURL(join(MODULES, "servlet-plugin.wasm")).href;
const example = pathToFileURL(join(MODULES, "example.wasm")).href;

/** Writes `text` as `name` in a fresh directory and imports it from there. */
async function importFile(name: string, text: string): Promise<{ dir: string; code: number | null; stdout: string; stderr: string; toml: Record<string, unknown> }> {
  const dir = tempDir("wasmforge-hyper-");
  writeFileSync(join(dir, name), text);
  const run = await runCli(["import", name], { cwd: dir });
  return { dir, ...run, toml: run.code === 0 ? (parseToml(run.stdout) as Record<string, unknown>) : {} };
}

const MAP_FORM = `
auths:
  "https://private.example.com":
    type: basic
    username: me
    password: hunter2
oci:
  insecure_skip_signature: false
plugins:
  time:
    url: "${servlet}"
    description: time tools
    runtime_config:
      skip_tools:
        - "pix.*"
      skip_prompts: ["draft_.*"]
      allowed_hosts: ["api.example.com"]
      allowed_paths:
        - "/tmp"
        - "/var/log:/plugin/logs"
      env_vars:
        API_KEY: "\${MY_API_KEY}"
        DEBUG: true
      memory_limit: "1GB"
      allowed_secrets:
        - service: my-service
          user: api-key
  math:
    url: "${example}"
    runtime_config:
      skip_tools: ["^s.*", "fib$", "answer"]
  fetch:
    url: oci://ghcr.io/hyper-mcp-rs/fetch-plugin:latest
  hub:
    url: oci://tuananh/hash-plugin:latest
  remote:
    url: https://example.com/plugins/thing.wasm
  bucket:
    url: s3://my-bucket/plugin.wasm
`;

describe("wasmforge import: hyper-mcp", () => {
  it("converts the plugins map: url or path, tool_prefix, runtime_config; and says what it could not carry over", async () => {
    const { code, stderr, toml } = await importFile("config.yaml", MAP_FORM);
    expect(code, stderr).toBe(0);
    expect(toml.modules).toEqual([
      {
        name: "time",
        description: "time tools",
        path: join(MODULES, "servlet-plugin.wasm"),
        tool_prefix: "time-",
        allowed_hosts: ["api.example.com"],
        allowed_paths: { "/tmp": "/tmp", "/var/log": "/plugin/logs" },
        config: { API_KEY: "${MY_API_KEY}", DEBUG: "true" },
        max_memory_mb: 954,
        hidden_tools: ["pix.*"],
      },
      { name: "math", path: join(MODULES, "example.wasm"), tool_prefix: "math-", hidden_tools: ["^s.*.*", ".*fib$", "answer"] },
      { name: "fetch", url: "oci://ghcr.io/hyper-mcp-rs/fetch-plugin:latest", tool_prefix: "fetch-" },
      { name: "hub", url: "oci://docker.io/tuananh/hash-plugin:latest", tool_prefix: "hub-" },
      { name: "remote", url: "https://example.com/plugins/thing.wasm", tool_prefix: "remote-" },
    ]);
    for (const said of [
      'plugin "bucket": s3:// URLs are not supported',
      'plugin "time": skip_prompts were not carried over',
      'plugin "time": allowed_secrets (keyring secrets) were not carried over',
      'plugin "time": env_vars "API_KEY" hold ${VAR} placeholders, copied as they are',
      'plugin "time": memory_limit "1GB" became max_memory_mb = 954 (whole MiB, rounded up)',
      'plugin "hub": oci://tuananh/hash-plugin:latest names no registry; it became oci://docker.io/tuananh/hash-plugin:latest',
      'modules "fetch", "hub", "remote" are not pinned, so WasmForge refuses to load them: run `wasmforge fetch`',
      '"auths" was not carried over',
      '"oci" (cosign signature checks) was not carried over',
      "OAuth tokens (get_access_token)",
    ]) {
      expect(stderr).toContain(said);
    }
    expect(stderr).not.toContain("hunter2"); // the auths password is never echoed
  });

  it("the converted config serves the names hyper-mcp served: <plugin>-<tool>, without the skipped tools", async () => {
    const config = `plugins:\n  time:\n    url: "${servlet}"\n    runtime_config:\n      skip_tools: ["pix.*"]\n  math:\n    url: "${example}"\n    runtime_config:\n      skip_tools: ["^s.*", "fib$", "answer"]\n`;
    const { dir, code, stdout, stderr } = await importFile("config.yaml", config);
    expect(code, stderr).toBe(0);
    writeFileSync(join(dir, "wasmforge.toml"), stdout);
    await withServer(["serve", "--config", join(dir, "wasmforge.toml"), "--no-watch"], async (c) => {
      const names = (await c.client.listTools()).tools.map((t) => t.name).sort();
      expect(names).toEqual(["math-add", "math-process_response", "math-validate_url", "time-reverse"]);
      expect(textOf(await c.client.callTool({ name: "time-reverse", arguments: { text: "stressed" } }))).toBe("desserts");
      expect(textOf(await c.client.callTool({ name: "math-add", arguments: { a: 1, b: 2 } }))).toBe("3");
    });
  });

  it("converts the older list form (JSON): no prefix unless tool_name_prefix, skip_tools as exact names, allowed_host", async () => {
    const config = {
      plugins: [
        { name: "time", path: servlet, runtime_config: { allowed_host: "1.1.1.1", skip_tools: ["pixel"], tool_name_prefix: "t_" } },
        { name: "math", url: example, runtime_config: { skip_tools: ["a.d"] } },
      ],
    };
    const { code, stderr, toml } = await importFile("config.json", JSON.stringify(config));
    expect(code, stderr).toBe(0);
    expect(toml.modules).toEqual([
      { name: "time", path: join(MODULES, "servlet-plugin.wasm"), tool_prefix: "t_", allowed_hosts: ["1.1.1.1"], hidden_tools: ["pixel"] },
      { name: "math", path: join(MODULES, "example.wasm"), hidden_tools: ["a\\.d"] },
    ]);
  });

  it("reads TOML configs too", async () => {
    const { code, stderr, toml } = await importFile("config.toml", `[plugins.time]\nurl = "${servlet}"\n\n[plugins.time.runtime_config]\nmemory_limit = "64Mi"\n`);
    expect(code, stderr).toBe(0);
    expect(toml.modules).toEqual([{ name: "time", path: join(MODULES, "servlet-plugin.wasm"), tool_prefix: "time-", max_memory_mb: 64 }]);
  });

  it("tells a file it does not know, and WASImancer-only flags on a hyper-mcp config, apart with a clear error", async () => {
    const dir = tempDir("wasmforge-hyper-");
    mkdirSync(join(dir, "x"));
    writeFileSync(join(dir, "other.json"), JSON.stringify({ servers: {} }));
    const unknown = await runCli(["import", "other.json"], { cwd: dir });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("other.json: not a config `wasmforge import` knows. Expected a hyper-mcp config");
    writeFileSync(join(dir, "config.json"), JSON.stringify({ plugins: { time: { url: servlet } } }));
    const flags = await runCli(["import", "config.json", "--prompts", "x/prompts.yml"], { cwd: dir });
    expect(flags.code).toBe(1);
    expect(flags.stderr).toContain("--resources and --prompts belong to WASImancer projects");
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ plugins: { time: { url: 42 } } }));
    const shape = await runCli(["import", "bad.json"], { cwd: dir });
    expect(shape.stderr).toContain("bad.json: not a hyper-mcp config:\n  plugins.time.url:");
  });
});
