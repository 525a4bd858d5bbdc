// wasmforge serve over stdio: listing, calling every example tool, and every error case.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { connect, jsonLines, moduleEntry, ROOT, runCli, tempDir, textOf, withServer, writeConfig, type Connected } from "./helpers.js";
import { serveNetwork } from "./network.js";

const DEFAULT_CONFIG = join(ROOT, "wasmforge.toml");

describe("serving the default config over stdio", () => {
  let server: Connected;
  beforeAll(async () => {
    server = await connect(["serve", "--config", DEFAULT_CONFIG]);
  });
  afterAll(() => server.close());

  it("lists raw and Extism tools with input schemas", async () => {
    const { tools } = await server.client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["add", "answer", "validate_url", "process_response", "count_words", "describe_url", "count_vowels", "roll_dice", "greet", "always_fail"]));
    const add = tools.find((t) => t.name === "add")!;
    expect(add.inputSchema.required).toEqual(["a", "b"]);
    expect(add.outputSchema).toMatchObject({ properties: { result: { type: "integer" } } });
    const validate = tools.find((t) => t.name === "validate_url")!;
    expect(Object.keys(validate.inputSchema.properties ?? {})).toEqual(["data"]);
    for (const name of names) expect(name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
  });

  it("add returns text and structured content", async () => {
    const result = await server.client.callTool({ name: "add", arguments: { a: 5, b: 3 } });
    expect(textOf(result)).toBe("8");
    expect(result.structuredContent).toEqual({ result: 8 });
  });

  it("numeric tools of every width answer", async () => {
    expect(textOf(await server.client.callTool({ name: "answer", arguments: {} }))).toBe("42");
    expect(textOf(await server.client.callTool({ name: "scale", arguments: { value: 1.5, factor: 4 } }))).toBe("6");
    expect(textOf(await server.client.callTool({ name: "fib", arguments: { n: 50 } }))).toBe("12586269025");
    expect(textOf(await server.client.callTool({ name: "add", arguments: { a: -2147483648, b: -1 } }))).toBe("2147483647");
  });

  it("string tools get their text through the module's memory, with or without an allocator", async () => {
    expect(textOf(await server.client.callTool({ name: "validate_url", arguments: { data: "https://example.com" } }))).toBe("1");
    expect(textOf(await server.client.callTool({ name: "validate_url", arguments: { data: "not a url" } }))).toBe("0");
    expect(textOf(await server.client.callTool({ name: "process_response", arguments: { data: "HTTP/1.1 404 Not Found" } }))).toBe("404");
    expect(textOf(await server.client.callTool({ name: "count_words", arguments: { data: "one two  three" } }))).toBe("3");
    const long = "word ".repeat(50_000);
    expect(textOf(await server.client.callTool({ name: "count_words", arguments: { data: long } }))).toBe("50000");
  });

  it("Extism plugins take JSON arguments and return text", async () => {
    const vowels = await server.client.callTool({ name: "count_vowels", arguments: { text: "Hello World" } });
    expect(JSON.parse(textOf(vowels))).toMatchObject({ count: 3 });
    const dice = await server.client.callTool({ name: "roll_dice", arguments: { sides: 6, count: 2, seed: 7 } });
    expect(JSON.parse(textOf(dice))).toEqual({ rolls: [4, 1], total: 5 });
    expect(textOf(await server.client.callTool({ name: "greet", arguments: { name: "Ada" } }))).toBe("Hello, Ada!");
  });

  it("a plugin error is a tool error carrying the plugin's message", async () => {
    const result = await server.client.callTool({ name: "always_fail", arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("this tool fails on purpose");
  });

  it("a trap is a tool error and the module serves again", async () => {
    const result = await server.client.callTool({ name: "crash", arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/trap: unreachable/);
    expect(textOf(await server.client.callTool({ name: "ok", arguments: {} }))).toBe("fine");
  });

  it("an unknown tool is a JSON-RPC error", async () => {
    await expect(server.client.callTool({ name: "no_such_tool", arguments: {} })).rejects.toThrow(/Unknown tool: "no_such_tool"/);
  });

  it("bad arguments name the argument", async () => {
    const missing = await server.client.callTool({ name: "add", arguments: { a: 1 } });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toContain('missing required argument "b"');
    const wrongType = await server.client.callTool({ name: "add", arguments: { a: 1, b: "two" } });
    expect(textOf(wrongType)).toMatch(/"b" must be integer/);
    const outOfRange = await server.client.callTool({ name: "add", arguments: { a: 1, b: 2 ** 31 } });
    expect(textOf(outOfRange)).toMatch(/"b" is out of range/);
    const notString = await server.client.callTool({ name: "validate_url", arguments: { data: 5 } });
    expect(textOf(notString)).toMatch(/"data" must be string/);
  });

  it("parallel calls all succeed", async () => {
    const calls = Array.from({ length: 32 }, (_, i) =>
      i % 2 === 0
        ? server.client.callTool({ name: "add", arguments: { a: i, b: 1 } })
        : server.client.callTool({ name: "count_vowels", arguments: { text: "a".repeat(i) } }),
    );
    const results = await Promise.all(calls);
    results.forEach((r, i) => {
      expect(r.isError).toBeFalsy();
      if (i % 2 === 0) expect(textOf(r)).toBe(String(i + 1));
      else expect(JSON.parse(textOf(r)).count).toBe(i);
    });
  });

  it("logs go to stderr with a startup summary", async () => {
    await expect.poll(() => server.stderr()).toMatch(/serving \d+ tools from 5 modules/);
  });
});

describe("piped JSON-RPC (echo | wasmforge serve)", () => {
  const pipe = (line: string) => runCli(["serve", "--config", DEFAULT_CONFIG], { input: `${line}\n` });

  it("tools/list prints the tool list and exits 0", async () => {
    const { code, stdout } = await pipe('{"jsonrpc":"2.0","id":1,"method":"tools/list"}');
    expect(code).toBe(0);
    const [reply] = jsonLines(stdout);
    expect(reply).toMatchObject({ id: 1 });
    expect((reply!.result as { tools: unknown[] }).tools.length).toBeGreaterThan(5);
  });

  it("add prints 8", async () => {
    const { code, stdout } = await pipe('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":5,"b":3}}}');
    expect(code).toBe(0);
    const [reply] = jsonLines(stdout);
    expect(CallToolResultSchema.parse(reply!.result).content[0]).toEqual({ type: "text", text: "8" });
  });

  it("validate_url prints 1", async () => {
    const { stdout } = await pipe('{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"validate_url","arguments":{"data":"https://example.com"}}}');
    expect(jsonLines(stdout)[0]).toMatchObject({ id: 3, result: { content: [{ type: "text", text: "1" }] } });
  });

  it("stdout carries nothing but JSON-RPC, and only the answers", async () => {
    const lines = [
      '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
      '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"crash","arguments":{}}}',
      '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"greet","arguments":{}}}',
    ];
    const { code, stdout, stderr } = await runCli(["serve", "--config", DEFAULT_CONFIG], { input: `${lines.join("\n")}\n` });
    expect(code).toBe(0);
    const replies = jsonLines(stdout);
    expect(replies.map((r) => r.id).sort()).toEqual([1, 2, 3]);
    expect(stderr).toContain("serving");
  });

  it("a slow call in flight when stdin closes is still answered before exit", async () => {
    const config = writeConfig(moduleEntry("slow", "faults/slow.wasm"));
    const started = Date.now();
    const { code, stdout } = await runCli(["serve", "--config", config], {
      input: '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"sleep_ms","arguments":{"ms":400}}}\n',
    });
    expect(code).toBe(0);
    expect(jsonLines(stdout)[0]).toMatchObject({ id: 7, result: { content: [{ text: "400" }] } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it("malformed frames get JSON-RPC errors and later requests are still served", async () => {
    const input = [
      "this is not json",
      '{"jsonrpc":"2.0","id":5}',
      '{"jsonrpc":"2.0","id":6,"method":"no/such/method"}',
      '{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}}',
    ].join("\n");
    const { code, stdout } = await runCli(["serve", "--config", DEFAULT_CONFIG], { input: `${input}\n` });
    expect(code).toBe(0);
    const replies = jsonLines(stdout);
    expect(replies).toContainEqual(expect.objectContaining({ id: null, error: expect.objectContaining({ code: -32700 }) }));
    expect(replies).toContainEqual(expect.objectContaining({ id: 5, error: expect.objectContaining({ code: -32600 }) }));
    expect(replies).toContainEqual(expect.objectContaining({ id: 6, error: expect.objectContaining({ code: -32601 }) }));
    expect(replies).toContainEqual(expect.objectContaining({ id: 8, result: expect.objectContaining({ structuredContent: { result: 3 } }) }));
  });
});

describe("config errors", () => {
  it("a TOML syntax error gives file, line and column", async () => {
    const config = writeConfig('[server]\nname = "x"\n[[modules]\nname = "a"\n');
    const { code, stderr, stdout } = await runCli(["serve", "--config", config]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain(`${config}:3:`);
    expect(stderr).toMatch(/TOML syntax error/);
  });

  it("an unknown key names its path", async () => {
    const config = writeConfig(`${moduleEntry("math", "example.wasm")}[modules.source]\ntype = "local"\npath = "x.wasm"\npathh = "typo"\n`);
    const { code, stderr } = await runCli(["serve", "--config", config]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/modules\[0\]\.source: unknown key "pathh"/);
  });

  it("a wrong type names the key path and what was expected", async () => {
    const config = writeConfig('[server]\ntimeout_ms = "soon"\n');
    const { code, stderr } = await runCli(["serve", "--config", config]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/server\.timeout_ms: expected number, received string/);
  });

  it("a missing config names every place looked at", async () => {
    const dir = tempDir();
    const { code, stderr } = await runCli(["serve"], { cwd: dir, env: { XDG_CONFIG_HOME: join(dir, "xdg"), WASMFORGE_CONFIG: "" } });
    expect(code).toBe(1);
    expect(stderr).toContain(join(dir, "wasmforge.toml"));
    expect(stderr).toContain(join(dir, "xdg", "wasmforge", "config.toml"));
  });

  it("WASMFORGE_CONFIG is used when --config is absent", async () => {
    const dir = tempDir();
    const config = writeConfig(moduleEntry("math", "example.wasm"));
    const { code, stdout } = await runCli(["serve"], {
      cwd: dir,
      env: { WASMFORGE_CONFIG: config },
      input: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"answer","arguments":{}}}\n',
    });
    expect(code).toBe(0);
    expect(jsonLines(stdout)[0]).toMatchObject({ result: { content: [{ text: "42" }] } });
  });
});

describe("modules that fail to load", () => {
  it("are reported with name and path while the others serve", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "not-wasm.wasm"), "hello, I am text");
    const config = writeConfig(
      [
        moduleEntry("math", "example.wasm"),
        `[[modules]]\nname = "missing"\npath = "nowhere/missing.wasm"\n`,
        `[[modules]]\nname = "garbage"\npath = "not-wasm.wasm"\n`,
      ].join("\n"),
      dir,
    );
    await withServer(["serve", "--config", config], async (server) => {
      const { tools } = await server.client.listTools();
      expect(tools.map((t) => t.name)).toContain("add");
      await expect.poll(() => server.stderr()).toMatch(/module "missing" \(.*nowhere\/missing\.wasm\): file not found/);
      await expect.poll(() => server.stderr()).toMatch(/module "garbage" \(.*not-wasm\.wasm\): not a valid WebAssembly module/);
    });
  });

  it("a tool name clash names both modules and how to fix it", async () => {
    const config = writeConfig([moduleEntry("first", "example.wasm"), moduleEntry("second", "example.wasm")].join("\n"));
    await withServer(["serve", "--config", config], async (server) => {
      const { tools } = await server.client.listTools();
      expect(tools.filter((t) => t.name === "add")).toHaveLength(1);
      await expect.poll(() => server.stderr()).toMatch(/module "second".*tool name "add".*clashes with module "first".*function_name = "add", name = "second_add"/);
    });
  });

});

describe("per-tool overrides", () => {
  it("rename, describe, hide and force a pattern", async () => {
    const config = writeConfig(
      moduleEntry(
        "math",
        "example.wasm",
        `[[modules.tools]]\nfunction_name = "add"\nname = "sum"\ndescription = "Sum two numbers"\n` +
          `[[modules.tools]]\nfunction_name = "answer"\nhidden = true\n` +
          `[[modules.tools]]\nfunction_name = "validate_url"\npattern = "i32_i32_to_i32"\n`,
      ),
    );
    await withServer(["serve", "--config", config], async (server) => {
      const { tools } = await server.client.listTools();
      const names = tools.map((t) => t.name);
      expect(names).toContain("sum");
      expect(names).not.toContain("add");
      expect(names).not.toContain("answer");
      expect(tools.find((t) => t.name === "sum")!.description).toBe("Sum two numbers");
      expect(Object.keys(tools.find((t) => t.name === "validate_url")!.inputSchema.properties ?? {})).toEqual(["ptr", "len"]);
    });
  });
});

describe("signals", () => {
  it("SIGTERM exits 0", async () => {
    const server = await serveNetwork(["--config", DEFAULT_CONFIG], [/serving \d+ tools/]);
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  });

  it("SIGTERM while the modules are still loading exits 0 too", async () => {
    // The config line comes before any module loads.
    const server = await serveNetwork(["--config", DEFAULT_CONFIG], [/config /]);
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  });
});

describe("help", () => {
  it("explains every command and flag", async () => {
    const top = await runCli(["--help"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/serve/);
    expect(top.stdout).toMatch(/--log-level/);
    const serve = await runCli(["serve", "--help"]);
    expect(serve.stdout).toMatch(/--config/);
    expect(serve.stdout).toMatch(/WASMFORGE_CONFIG/);
  });
});

describe("plugins from newer and Go PDKs", () => {
  it("load and answer: WASI imports, _start, void exports and host functions 1.0.3 lacks", async () => {
    await withServer(["serve", "--config", writeConfig(moduleEntry("modern", "modern-plugin.wasm"))], async (server) => {
      const names = (await server.client.listTools()).tools.map((t) => t.name).sort();
      expect(names).toEqual(["echo", "shout"]);
      expect(textOf(await server.client.callTool({ name: "echo", arguments: { hello: "world" } }))).toBe('{"hello":"world"}');
      expect(textOf(await server.client.callTool({ name: "shout", arguments: { word: "quiet" } }))).toBe('{"WORD":"QUIET"}');
    });
  });
});

describe('Extism functions with input = "text"', () => {
  it("get the string argument `input` as their raw input", async () => {
    const config = writeConfig(moduleEntry("modern", "modern-plugin.wasm", '[[modules.tools]]\nfunction_name = "shout"\ninput = "text"\n'));
    await withServer(["serve", "--config", config], async (server) => {
      const shout = (await server.client.listTools()).tools.find((t) => t.name === "shout")!;
      expect(shout.inputSchema.required).toEqual(["input"]);
      expect(textOf(await server.client.callTool({ name: "shout", arguments: { input: "plain words" } }))).toBe("PLAIN WORDS");
      const missing = await server.client.callTool({ name: "shout", arguments: {} });
      expect(textOf(missing)).toContain('missing required argument "input"');
    });
  });
});
