// String results from plain WebAssembly: the packed (ptr << 32 | len) convention.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, moduleEntry, runCli, textOf, withServer, writeConfig, type Connected } from "./helpers.js";

const CONFIG = [
  moduleEntry("text", "text.wasm", '[[modules.tools]]\nfunction_name = "greeting"\npattern = "no_params_to_string"\n'),
  moduleEntry(
    "bad",
    "faults/bad-strings.wasm",
    '[[modules.tools]]\nfunction_name = "megabyte"\npattern = "no_params_to_string"\n' +
      '[[modules.tools]]\nfunction_name = "huge"\npattern = "no_params_to_string"\n',
  ),
].join("\n");

describe("ptr_len_to_string and no_params_to_string", () => {
  let server: Connected;
  beforeAll(async () => {
    server = await connect(["serve", "--config", writeConfig(CONFIG)]);
  });
  afterAll(() => server.close());

  it("a JSON object result is text and structured content", async () => {
    const result = await server.client.callTool({ name: "describe_url", arguments: { data: "https://example.com/path" } });
    expect(result.isError).toBeFalsy();
    const text = textOf(result);
    expect(JSON.parse(text)).toMatchObject({ valid: true, scheme: "https", host: "example.com" });
    expect(result.structuredContent).toEqual(JSON.parse(text));
  });

  it("reports why a URL is invalid", async () => {
    const result = await server.client.callTool({ name: "describe_url", arguments: { data: "example.com" } });
    expect(result.structuredContent).toMatchObject({ valid: false, reason: "missing scheme" });
  });

  it("a plain text result has no structured content", async () => {
    const result = await server.client.callTool({ name: "greeting", arguments: {} });
    expect(textOf(result)).toBe("Hello from WasmForge!");
    expect(result.structuredContent).toBeUndefined();
  });

  it("a (ptr, len) -> i64 function takes one string argument, data", async () => {
    const { tools } = await server.client.listTools();
    expect(tools.find((t) => t.name === "describe_url")!.inputSchema).toMatchObject({ properties: { data: { type: "string" } }, required: ["data"] });
  });

  it("without the config pattern, () -> i64 is numeric", async () => {
    // The same module as served above, but no pattern for greeting.
    const { code, stdout, stderr } = await runCli(["tools", "--config", writeConfig(moduleEntry("text", "text.wasm")), "--json"]);
    expect(code, stderr).toBe(0);
    const tools = (JSON.parse(stdout) as { tools: { name: string; pattern: string; inputSchema: Record<string, unknown> }[] }).tools;
    expect(tools.find((t) => t.name === "greeting")).toMatchObject({ pattern: "numeric", inputSchema: { properties: {} } });
    const served = (await server.client.listTools()).tools.find((t) => t.name === "greeting")!;
    expect(served.outputSchema).toBeUndefined(); // with the pattern: text, no numeric result
  });

  it("a 1 MB result arrives whole", async () => {
    const text = textOf(await server.client.callTool({ name: "megabyte", arguments: {} }));
    expect(text.length).toBe(1024 * 1024);
    expect(text).toMatch(/^x+$/);
  });

  it("an out-of-bounds pointer is a clear error", async () => {
    const result = await server.client.callTool({ name: "out_of_bounds", arguments: { data: "x" } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/result out of bounds: pointer 2147418112 \+ length 100 is past the end of the module's memory/);
  });

  it("invalid UTF-8 is a clear error", async () => {
    const result = await server.client.callTool({ name: "invalid_utf8", arguments: { data: "x" } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/not valid UTF-8/);
  });

  it("a result over the output cap is a clear error", async () => {
    const result = await server.client.callTool({ name: "huge", arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/over the output limit/);
  });

  it("the server keeps serving after every bad result", async () => {
    expect(textOf(await server.client.callTool({ name: "count_words", arguments: { data: "still here" } }))).toBe("2");
  });
});

describe("a reused instance with dealloc", () => {
  it("does not grow memory across 1,600 calls of 3 KB each", async () => {
    // 1 MB cap: without dealloc, 1,600 inputs of 3 KB and their results would need about 5 MB (a
    // leak fails after some 340 calls). One worker, so every call meets the same instance.
    const config = writeConfig(`[server]\npool_size = 1\n${moduleEntry("text", "text.wasm", 'state = "keep"\nmax_memory_mb = 1\n')}`);
    await withServer(["serve", "--config", config, "--log-level", "warn"], async (server) => {
      const input = `https://example.com/${"p".repeat(3000)}`;
      let failures = 0;
      for (let batch = 0; batch < 100; batch++) {
        const results = await Promise.all(
          Array.from({ length: 16 }, () => server.client.callTool({ name: "describe_url", arguments: { data: input } })),
        );
        failures += results.filter((r) => r.isError).length;
      }
      expect(failures).toBe(0);
    });
  }, 120_000);
});
