// String results from plain WebAssembly: the packed (ptr << 32 | len) convention.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, moduleEntry, textOf, writeConfig, type Connected } from "./helpers.js";

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

  it("without the config pattern, () -> i64 is numeric", async () => {
    const { tools } = await server.client.listTools();
    expect(tools.find((t) => t.name === "greeting")!.outputSchema).toBeUndefined();
    expect(tools.find((t) => t.name === "describe_url")!.inputSchema.required).toEqual(["data"]);
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
  it("does not grow memory across 10,000 calls", async () => {
    // 1 MB cap: without dealloc, 10,000 results plus 300-byte inputs would need about 3.5 MB.
    // One worker, so every call meets the same instance.
    const config = writeConfig(`[server]\npool_size = 1\n${moduleEntry("text", "text.wasm", 'state = "keep"\nmax_memory_mb = 1\n')}`);
    const server = await connect(["serve", "--config", config, "--log-level", "warn"]);
    try {
      const input = `https://example.com/${"p".repeat(280)}`;
      let failures = 0;
      for (let batch = 0; batch < 625; batch++) {
        const results = await Promise.all(
          Array.from({ length: 16 }, () => server.client.callTool({ name: "describe_url", arguments: { data: input } })),
        );
        failures += results.filter((r) => r.isError).length;
      }
      expect(failures).toBe(0);
    } finally {
      await server.close();
    }
  }, 120_000);
});
