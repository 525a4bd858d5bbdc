// `tool_prefix` and `hidden_tools`: the names a module's tools are served under, for plain modules,
// Extism plugins and plugins that describe their own tools alike.

import { writeFileSync } from "node:fs";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { moduleEntry, runCli, textOf, withServer, writeConfig } from "./helpers.js";

interface Report {
  tools: { name: string; module: string }[];
  failures: { module: string; error: string }[];
  warnings: { module: string; warning: string }[];
}

async function toolsOf(toml: string): Promise<Report> {
  const run = await runCli(["tools", "--json", "--config", writeConfig(toml)]);
  return JSON.parse(run.stdout) as Report;
}

describe("tool_prefix and hidden_tools", () => {
  it("prefix every tool of a plain module, an Extism plugin and a self-describing plugin, and calls reach them", async () => {
    const config = writeConfig(
      moduleEntry("math", "example.wasm", 'tool_prefix = "math_"') +
        moduleEntry("text", "text-plugin.wasm", 'tool_prefix = "text-"') +
        moduleEntry("time", "servlet-plugin.wasm", 'tool_prefix = "time-"\n[[modules.tools]]\nfunction_name = "reverse"\nname = "backwards"'),
    );
    await withServer(["serve", "--config", config, "--no-watch"], async (c) => {
      const names = (await c.client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(["math_add", "math_answer", "text-count_vowels", "time-backwards", "time-pixel"]));
      expect(names.filter((n) => !/^(math_|text-|time-)/.test(n))).toEqual([]);
      expect(textOf(await c.client.callTool({ name: "math_add", arguments: { a: 2, b: 3 } }))).toBe("5");
      expect(textOf(await c.client.callTool({ name: "time-backwards", arguments: { text: "stressed" } }))).toBe("desserts");
      expect(JSON.parse(textOf(await c.client.callTool({ name: "text-count_vowels", arguments: { text: "plugins" } })))).toMatchObject({ count: 2 });
    });
  });

  it("hidden_tools hides the tools whose own name a pattern matches in full", async () => {
    const report = await toolsOf(
      moduleEntry("math", "example.wasm", 'tool_prefix = "m-"\nhidden_tools = ["a.*", "fi"]') +
        moduleEntry("time", "servlet-plugin.wasm", 'hidden_tools = ["pix.*"]'),
    );
    const names = report.tools.map((t) => t.name);
    expect(names).toContain("m-fib"); // "fi" must match the whole name
    expect(names).toContain("reverse");
    for (const gone of ["m-add", "m-answer", "pixel"]) expect(names).not.toContain(gone);
  });

  it("a prefix that makes a name longer than 64 characters is a clear error; other modules still serve", async () => {
    const prefix = "p".repeat(60);
    const report = await toolsOf(moduleEntry("long", "servlet-plugin.wasm", `tool_prefix = "${prefix}"`) + moduleEntry("math", "example.wasm", `tool_prefix = "${prefix}"`));
    expect(report.failures).toEqual([
      expect.objectContaining({ module: "long", error: expect.stringContaining(`(tool_prefix "${prefix}" + "reverse") is 67 characters, over the 64 allowed; shorten tool_prefix`) }),
    ]);
    // A plain module keeps its tools that fit, and says which do not.
    expect(report.tools.map((t) => t.name)).toEqual([`${prefix}add`, `${prefix}fib`]);
    expect(report.warnings).toContainEqual({ module: "math", warning: expect.stringContaining(`tool name "${prefix}answer"`) });
  });

  it("editing tool_prefix or hidden_tools reloads the module under its new names", async () => {
    const config = writeConfig(moduleEntry("time", "servlet-plugin.wasm", 'tool_prefix = "a-"'));
    await withServer(["serve", "--config", config], async (c) => {
      expect((await c.client.listTools()).tools.map((t) => t.name).sort()).toEqual(["a-pixel", "a-reverse"]);
      const changed = new Promise<void>((resolve) => c.client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
      writeFileSync(config, moduleEntry("time", "servlet-plugin.wasm", 'tool_prefix = "b-"\nhidden_tools = ["pixel"]'));
      await changed;
      expect((await c.client.listTools()).tools.map((t) => t.name)).toEqual(["b-reverse"]);
    });
  });

  it("a prefix or pattern that cannot be valid is a config error naming the key", async () => {
    const run = await runCli(["tools", "--config", writeConfig(moduleEntry("math", "example.wasm", 'tool_prefix = "a b"\nhidden_tools = ["("]'))]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('modules[0].tool_prefix: expected 1-63 letters, digits, "_" or "-"');
    expect(run.stderr).toContain("modules[0].hidden_tools[0]: not a valid regular expression");
  });
});
