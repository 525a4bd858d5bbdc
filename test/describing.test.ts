// Plugins that describe their own tools: hyper-mcp's interface 1 (describe + call, as mcp.run
// servlets) and interface 2 (list_tools + call_tool, with prompts, resources, logging and progress),
// served next to a plain Extism plugin through the real CLI and the SDK Client.

import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LoggingMessageNotificationSchema,
  McpError,
  ProgressNotificationSchema,
  type LoggingMessageNotification,
  type ProgressNotification,
} from "@modelcontextprotocol/sdk/types.js";
import { connect, moduleEntry, MODULES, runCli, textOf, writeConfig, type Connected, type RunResult } from "./helpers.js";

const RED_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";

describe("plugins that describe themselves, beside a plain Extism plugin", () => {
  let server: Connected;
  beforeAll(async () => {
    const config = writeConfig(
      [moduleEntry("servlet", "servlet-plugin.wasm"), moduleEntry("memo", "mcp-plugin.wasm"), moduleEntry("text", "text-plugin.wasm")].join("\n"),
    );
    server = await connect(["serve", "--config", config, "--no-watch"]);
  });
  afterAll(() => server.close());

  it("lists each described tool with its own name, description and schema, and never the interface exports", async () => {
    const { tools } = await server.client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["reverse", "pixel", "word_stats", "steps", "count_vowels"]));
    for (const own of ["describe", "call", "list_tools", "call_tool", "list_prompts", "get_prompt", "read_resource"]) expect(names).not.toContain(own);
    const reverse = tools.find((t) => t.name === "reverse")!;
    expect(reverse.description).toBe("Reverses a piece of text");
    expect(reverse.inputSchema).toEqual({
      type: "object",
      properties: { text: { type: "string", description: "Text to reverse" } },
      required: ["text"],
      additionalProperties: false,
    });
    expect(tools.find((t) => t.name === "pixel")!.inputSchema.properties).toEqual({ color: { type: "string", enum: ["red", "green", "blue"] } });
  });

  it("routes each call to the plugin by the tool's name", async () => {
    expect(textOf(await server.client.callTool({ name: "reverse", arguments: { text: "stressed" } }))).toBe("desserts");
    const pixel = await server.client.callTool({ name: "pixel", arguments: { color: "red" } });
    expect((pixel.content as { type: string }[])[0]!.type).toBe("image");
    // The plain Extism plugin still serves beside them.
    expect(JSON.parse(textOf(await server.client.callTool({ name: "count_vowels", arguments: { text: "plugins" } })))).toMatchObject({ count: 2 });
  });

  it("passes image and resource content through unchanged", async () => {
    const result = await server.client.callTool({ name: "pixel", arguments: { color: "red" } });
    expect(result.isError).toBeFalsy();
    expect(result.content).toEqual([
      { type: "image", data: RED_PNG, mimeType: "image/png" },
      { type: "resource", resource: { uri: "pixel://red", mimeType: "image/png", blob: RED_PNG } },
      { type: "text", text: "a 1x1 red pixel" },
    ]);
  });

  it("rejects arguments that break the plugin's schema before calling it", async () => {
    // Had the plugin run, it would have answered "pixel: unknown colour".
    const purple = await server.client.callTool({ name: "pixel", arguments: { color: "purple" } });
    expect(purple.isError).toBe(true);
    expect(textOf(purple)).toMatch(/^invalid arguments for tool "pixel": "color" must be equal to one of the allowed values/);
    const missing = await server.client.callTool({ name: "reverse", arguments: {} });
    expect(textOf(missing)).toBe('invalid arguments for tool "reverse": missing required argument "text"');
    const extra = await server.client.callTool({ name: "reverse", arguments: { text: "a", loud: true } });
    expect(textOf(extra)).toMatch(/unknown argument "loud"/);
  });

  it("serves interface 2 tools with title, outputSchema, annotations and structuredContent", async () => {
    const { tools } = await server.client.listTools();
    const stats = tools.find((t) => t.name === "word_stats")!;
    expect(stats.title).toBe("Word statistics");
    expect(stats.outputSchema).toEqual({
      type: "object",
      properties: { words: { type: "integer" }, chars: { type: "integer" } },
      required: ["words", "chars"],
    });
    expect(stats.annotations).toEqual({ title: "Word statistics", readOnlyHint: true, idempotentHint: true, openWorldHint: false });
    const result = await server.client.callTool({ name: "word_stats", arguments: { text: "hello wasm world" } });
    expect(result.structuredContent).toEqual({ words: 3, chars: 16 });
    expect(JSON.parse(textOf(result))).toEqual({ words: 3, chars: 16 });
  });

  it("serves the plugin's prompts", async () => {
    expect(server.client.getServerCapabilities()?.prompts).toBeDefined();
    const { prompts } = await server.client.listPrompts();
    expect(prompts).toEqual([
      {
        name: "summarize",
        title: "Summarize",
        description: "Asks for a one-sentence summary of a text",
        arguments: [{ name: "text", description: "The text to summarize", required: true }],
      },
    ]);
    const prompt = await server.client.getPrompt({ name: "summarize", arguments: { text: "WebAssembly everywhere." } });
    expect(prompt.messages).toEqual([{ role: "user", content: { type: "text", text: "Summarize this in one sentence:\n\nWebAssembly everywhere." } }]);
    await expect(server.client.getPrompt({ name: "nope" })).rejects.toThrow(/Unknown prompt: "nope"/);
  });

  it("serves the plugin's resources and resource templates", async () => {
    expect(server.client.getServerCapabilities()?.resources).toBeDefined();
    const { resources } = await server.client.listResources();
    expect(resources).toEqual([{ uri: "memo://readme", name: "readme", title: "Read me", description: "What this plugin is", mimeType: "text/plain" }]);
    const { resourceTemplates } = await server.client.listResourceTemplates();
    expect(resourceTemplates).toEqual([{ uriTemplate: "memo://notes/{id}", name: "note", title: "A note by id", mimeType: "text/plain" }]);
    const readme = await server.client.readResource({ uri: "memo://readme" });
    expect(readme.contents).toEqual([{ uri: "memo://readme", mimeType: "text/plain", text: "This plugin speaks hyper-mcp's interface 2." }]);
    const note = await server.client.readResource({ uri: "memo://notes/42" });
    expect(note.contents).toEqual([{ uri: "memo://notes/42", mimeType: "text/plain", text: "Note 42" }]);
    const missing = await server.client.readResource({ uri: "memo://elsewhere" }).catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(McpError);
    // SEP-2164: a resource nobody serves is -32602 with the URI as data, in both protocol eras.
    expect((missing as McpError).code).toBe(-32602);
    expect((missing as McpError).data).toEqual({ uri: "memo://elsewhere" });
  });

  it("routes the plugin's logging and progress to the calling client", async () => {
    const logs: LoggingMessageNotification["params"][] = [];
    server.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params));
    // Progress is read off the wire rather than through callTool's onprogress: the SDK client drops
    // progress that arrives in the same read as the response (typescript-sdk#2580), as it does here.
    const progress: ProgressNotification["params"][] = [];
    server.client.setNotificationHandler(ProgressNotificationSchema, (n) => void progress.push(n.params));
    await server.client.setLoggingLevel("info");
    const result = await server.client.callTool({ name: "steps", arguments: { count: 3 }, _meta: { progressToken: "steps-1" } });
    expect(textOf(result)).toBe("did 3 steps");
    // The plugin's own steps, after the server's "received" (0) and "running" (0.5), under the client's
    // token; no synthetic "done" after them.
    expect(progress).toEqual([
      { progressToken: "steps-1", progress: 0, total: 1 },
      { progressToken: "steps-1", progress: 0.5, total: 1, message: "running" },
      ...[1, 2, 3].map((i) => ({ progressToken: "steps-1", progress: i, total: 3, message: `step ${i} of 3` })),
    ]);
    // Its info lines arrive; its debug line is below the level the client asked for.
    const fromPlugin = logs.filter((l) => l.logger === "steps");
    expect(fromPlugin).toEqual([1, 2, 3].map((i) => ({ level: "info", logger: "steps", data: `step ${i} of 3` })));

    // A call without a progress token gets no progress, though the plugin still logs.
    progress.length = 0;
    logs.length = 0;
    expect(textOf(await server.client.callTool({ name: "steps", arguments: { count: 2 } }))).toBe("did 2 steps");
    expect(progress).toEqual([]);
    expect(logs.filter((l) => l.logger === "steps")).toHaveLength(2);
  });
});

describe("plugins that break the contract", () => {
  let server: Connected;
  beforeAll(async () => {
    const config = writeConfig(
      [
        moduleEntry("broken", "broken-servlet.wasm"),
        moduleEntry("bad_json", "broken-servlet.wasm", 'config = { mode = "bad_json" }'),
        moduleEntry("bad_shape", "broken-servlet.wasm", 'config = { mode = "bad_shape" }'),
        moduleEntry("bad_name", "broken-servlet.wasm", 'config = { mode = "bad_name" }'),
        moduleEntry("servlet", "servlet-plugin.wasm"),
      ].join("\n"),
    );
    server = await connect(["serve", "--config", config, "--no-watch"]);
  });
  afterAll(() => server.close());

  it("a describe that is not JSON, not a tool list, or names a tool badly is a clear error for that plugin alone", async () => {
    const stderr = server.stderr();
    expect(stderr).toMatch(/module "bad_json" .*describe returned text that is not valid JSON/);
    expect(stderr).toMatch(/module "bad_shape" .*describe returned JSON that does not fit the MCP schema: tools: .*expected array/);
    expect(stderr).toMatch(/module "bad_name" .*describe returned the tool name "bad name!", which breaks the naming rule.*function_name = "bad name!"/);
    const names = (await server.client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(["bad_result", "fine", "not_json", "pixel", "reverse"]);
    expect(textOf(await server.client.callTool({ name: "reverse", arguments: { text: "ok" } }))).toBe("ko");
  });

  it("a call that returns text that is not JSON, or JSON that is no CallToolResult, fails that call only", async () => {
    const notJson = await server.client.callTool({ name: "not_json", arguments: {} });
    expect(notJson.isError).toBe(true);
    expect(textOf(notJson)).toMatch(/^tool "not_json" failed: call returned text that is not valid JSON .*"this is not JSON"/);
    const badResult = await server.client.callTool({ name: "bad_result", arguments: {} });
    expect(badResult.isError).toBe(true);
    expect(textOf(badResult)).toMatch(/^tool "bad_result" failed: call returned JSON that does not fit the MCP schema: content/);
    expect(textOf(await server.client.callTool({ name: "fine", arguments: {} }))).toBe("still fine");
  });
});

describe("loading, as `wasmforge tools` reports it", () => {
  let run: RunResult;
  beforeAll(async () => {
    const config = writeConfig(
      [
        moduleEntry("unknown", "unknown-host.wasm"),
        moduleEntry("stuck", "broken-servlet.wasm", 'timeout_ms = 300\nconfig = { mode = "hang" }'),
        moduleEntry("renamed", "broken-servlet.wasm", 'config = { mode = "bad_name" }\n[[modules.tools]]\nfunction_name = "bad name!"\nname = "good_name"'),
        moduleEntry("plain", "servlet-plugin.wasm", '[[modules.tools]]\nfunction_name = "describe"\npattern = "extism"'),
        moduleEntry("servlet", "servlet-plugin.wasm"),
        moduleEntry("memo", "mcp-plugin.wasm"),
      ].join("\n"),
    );
    run = await runCli(["tools", "--config", config]);
  });

  it("a plugin importing a host function WasmForge does not provide fails to load, naming it; the others load", () => {
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/module "unknown" .*imports extism:host\/user\.get_keyring_secret \(function\), which WasmForge does not provide/);
    expect(run.stdout).toMatch(/^word_stats {2}\(module memo, export call_tool, pattern mcp_v2\)$/m);
    expect(run.stdout).toMatch(/^reverse {2}\(module servlet, export call, pattern describe_v1\)$/m);
  });

  it("describe runs in a worker under the module's deadline: one that never returns fails that module only", () => {
    expect(run.stdout).toMatch(/module "stuck" .*describe failed: timed out after 300 ms/);
  });

  it("a tool whose name breaks the rule loads once the config renames it", () => {
    expect(run.stdout).toMatch(/^good_name {2}\(module renamed, export call, pattern describe_v1\)$/m);
    expect(run.stdout).not.toMatch(/module "renamed" /);
  });

  it('pattern = "extism" on an interface export serves the plugin as plain Extism functions', () => {
    expect(run.stdout).toMatch(/^describe {2}\(module plain, export describe, pattern extism\)$/m);
    expect(run.stdout).toMatch(/^call {2}\(module plain, export call, pattern extism\)$/m);
  });
});

describe("wasmforge inspect", () => {
  it("shows the detected interface", async () => {
    const [v1, v2] = await Promise.all(
      ["servlet-plugin.wasm", "mcp-plugin.wasm"].map((file) => runCli(["inspect", join(MODULES, file), "--json"])),
    );
    expect(JSON.parse(v1!.stdout)).toMatchObject({ abi: "extism", interface: "describe_v1" });
    expect(JSON.parse(v2!.stdout)).toMatchObject({ abi: "extism", interface: "mcp_v2" });
    const text = await runCli(["inspect", join(MODULES, "servlet-plugin.wasm")]);
    expect(text.stdout.split("\n")[0]).toMatch(/describes its own tools, interface 1 \(hyper-mcp v1, mcp\.run servlet\)/);
  });
});
