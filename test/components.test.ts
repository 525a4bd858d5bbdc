// WebAssembly components (WASI 0.2) served as tools, through the built CLI and the SDK Client:
// the kitchen component (every WIT type), wassette's filesystem.wasm with a granted directory,
// a socket probe, a JavaScript component built with componentize-js, and the faults.

import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, MODULES, runCli, tempDir, textOf, writeConfig, type Connected } from "./helpers.js";

const COMPONENTS = join(MODULES, "components");
/** One transpile cache for these tests (content-addressed, so runs share it safely). */
const CACHE = join(tempDir("wasmforge-components-"), "cache");
const T = (name: string) => `wasmforge_kitchen_types_0_1_0_${name}`;
const F = (name: string) => `wasmforge_kitchen_faults_0_1_0_${name}`;

function component(name: string, file: string, extra = ""): string {
  return `[[modules]]\nname = "${name}"\npath = "${join(COMPONENTS, file)}"\n${extra}\n`;
}

describe("a component exercising every WIT type, beside wassette's filesystem.wasm", () => {
  let server: Connected;
  const docs = tempDir("wasmforge-docs-");
  beforeAll(async () => {
    mkdirSync(join(docs, "sub"));
    writeFileSync(join(docs, "hello.txt"), "hello from the docs\n");
    const outside = tempDir("wasmforge-outside-");
    writeFileSync(join(outside, "secret.txt"), "not for components\n");
    symlinkSync(join(outside, "secret.txt"), join(docs, "link.txt"));
    const config = writeConfig(
      [
        `[cache]\ndirectory = "${CACHE}"\n`,
        component("kitchen", "kitchen.wasm", `max_memory_mb = 4\n[[modules.tools]]\nfunction_name = "${F("spin")}"\ntimeout_ms = 500\n`),
        component("fs", "wassette/filesystem.wasm", `allowed_paths = { "${docs}" = "/data" }`),
        component("net", "netprobe.wasm"),
      ].join("\n"),
    );
    server = await connect(["--log-level", "debug", "serve", "--config", config, "--no-watch"]);
  }, 60_000);
  afterAll(() => server?.close());

  const call = (name: string, args: Record<string, unknown>) => server.client.callTool({ name, arguments: args });
  const ok = async (name: string, args: Record<string, unknown>, result: unknown, text?: string) => {
    const r = await call(name, args);
    expect(r.isError, JSON.stringify(r)).toBeFalsy();
    expect(r.structuredContent).toEqual({ result });
    if (text !== undefined) expect(textOf(r)).toBe(text);
  };
  const fails = async (name: string, args: Record<string, unknown>, pattern: RegExp) => {
    const r = await call(name, args);
    expect(r.isError, JSON.stringify(r)).toBe(true);
    expect(textOf(r)).toMatch(pattern);
  };

  it("lists each exported function, and each function of an exported interface, under wassette's tool name", async () => {
    const names = (await server.client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining(["greet", "add", T("numbers"), T("next-char"), T("divide"), T("tag-count"), F("spin"), F("crash"), F("grow")]),
    );
    expect(names).toEqual(expect.arrayContaining(["list-directory", "read-file", "search-file", "get-file-info", "open-socket"]));
  });

  it("skips functions that take or return resources, saying why at --log-level debug", async () => {
    const names = (await server.client.listTools()).tools.map((t) => t.name);
    expect(names.filter((n) => n.includes("counters"))).toEqual([]);
    const stderr = server.stderr();
    for (const fn of ["_constructor_counter", "_method_counter_increment", "make-counter", "peek"]) {
      expect(stderr).toMatch(new RegExp(`export wasmforge_kitchen_counters_0_1_0_${fn.replace(/[-[\]]/g, "\\$&")} .*skipped: takes or returns resource counter`));
    }
  });

  it("gives every WIT type its schema, with the WIT doc comments as descriptions", async () => {
    const tools = new Map((await server.client.listTools()).tools.map((t) => [t.name, t]));
    const input = (name: string) => tools.get(T(name))!.inputSchema.properties as Record<string, unknown>;
    const u32 = { type: "integer", minimum: 0, maximum: 4294967295 };
    const s32 = { type: "integer", minimum: -2147483648, maximum: 2147483647 };
    expect(input("numbers")).toMatchObject({ a: { type: "integer", minimum: 0, maximum: 255 }, b: { type: "integer", minimum: -128, maximum: 127 }, c: { maximum: 65535 }, i: { type: "number" }, j: { type: "number" } });
    expect(input("negate")).toEqual({ b: { type: "boolean" } });
    expect(input("next-char")).toEqual({ c: { type: "string", description: "1 unicode codepoint" } });
    expect(input("sum-list")).toEqual({ xs: { type: "array", items: u32 } });
    expect(input("maybe-double")).toEqual({ x: { anyOf: [{ type: "null" }, u32] } });
    expect(input("swap")).toEqual({ t: { type: "array", prefixItems: [{ type: "string" }, u32], minItems: 2, maxItems: 2 } });
    expect(input("move-point")).toEqual({ p: { type: "object", properties: { x: s32, y: s32 }, required: ["x", "y"] }, dx: s32 });
    expect(input("next-color")).toEqual({ c: { type: "string", enum: ["red", "green", "blue"] } });
    expect(input("toggle")).toEqual({ p: { type: "object", properties: { read: { type: "boolean" }, write: { type: "boolean" }, exec: { type: "boolean" } } } });
    expect(input("area")).toEqual({
      s: {
        oneOf: [
          { type: "object", properties: { tag: { const: "circle" }, val: u32 }, required: ["tag", "val"] },
          { type: "object", properties: { tag: { const: "rect" }, val: { type: "object", properties: { x: s32, y: s32 }, required: ["x", "y"] } }, required: ["tag", "val"] },
          { type: "object", properties: { tag: { const: "nothing" } }, required: ["tag"] },
        ],
      },
    });
    expect(tools.get(T("tag-count"))!.inputSchema.required).toEqual(["p"]);
    expect((input("tag-count").p as { required: string[] }).required).toEqual(["name", "age", "tags", "nickname"]);
    const divide = tools.get(T("divide"))!;
    expect(divide.description).toBe("Divides a by b; dividing by zero is an error.");
    expect(divide.outputSchema).toEqual({
      type: "object",
      properties: { result: { oneOf: [{ type: "object", properties: { ok: u32 }, required: ["ok"] }, { type: "object", properties: { err: { type: "string" } }, required: ["err"] }] } },
      required: ["result"],
    });
    expect(tools.get("greet")!.description).toBe("Says hello to someone.");
  });

  it("round-trips strings and numbers of every width", async () => {
    await ok("greet", { name: "Ada" }, "Hello, Ada!", "Hello, Ada!");
    await ok("add", { a: 2, b: -5 }, -3, "-3");
    const numbers = { a: 255, b: -128, c: 65535, d: -32768, e: 4294967295, f: -2147483648, g: 10, h: -10, i: 1.5, j: 0.25 };
    await ok(T("numbers"), numbers, 255 - 128 + 65535 - 32768 + 4294967295 - 2147483648 + 1.75);
    await fails(T("numbers"), { ...numbers, a: 256 }, /"a" is out of range/);
    await fails(T("numbers"), { ...numbers, a: 1.5 }, /"a" must be integer/);
  });

  it("round-trips bool, char, lists, list<u8>, option and tuple", async () => {
    await ok(T("negate"), { b: true }, false, "false");
    await ok(T("next-char"), { c: "a" }, "b", "b");
    await ok(T("next-char"), { c: "😀" }, "😁");
    await fails(T("next-char"), { c: "ab" }, /exactly one Unicode character/);
    await ok(T("sum-list"), { xs: [1, 2, 3] }, 6, "6");
    await ok(T("reverse-bytes"), { data: [1, 2, 3] }, [3, 2, 1], "[3,2,1]");
    await ok(T("maybe-double"), { x: 21 }, 42, "42");
    await ok(T("maybe-double"), { x: null }, null);
    await ok(T("swap"), { t: ["x", 7] }, [7, "x"], '[7,"x"]');
  });

  it("round-trips records, enums, flags and variants", async () => {
    await ok(T("move-point"), { p: { x: 1, y: 2 }, dx: 10 }, { x: 11, y: 2 }, '{"x":11,"y":2}');
    await fails(T("move-point"), { p: { x: 1 }, dx: 10 }, /missing required argument "y"|must have required property 'y'/);
    await ok(T("next-color"), { c: "blue" }, "red", "red");
    await fails(T("next-color"), { c: "purple" }, /must be equal to one of the allowed values/);
    await ok(T("toggle"), { p: { read: true } }, { read: false, write: true, exec: true });
    await ok(T("area"), { s: { tag: "circle", val: 2 } }, 12, "12");
    await ok(T("area"), { s: { tag: "rect", val: { x: 3, y: 4 } } }, 12);
    await ok(T("area"), { s: { tag: "nothing" } }, 0);
    await ok(T("tag-count"), { p: { name: "a", age: 3, tags: ["x", "y"], nickname: "n" } }, 102);
    await ok(T("tag-count"), { p: { name: "a", age: 3, tags: ["x", "y"], nickname: null } }, 2);
  });

  it("result<T, E>: ok is the value, err is a tool error carrying E", async () => {
    await ok(T("divide"), { a: 7, b: 2 }, { ok: 3 }, "3");
    const r = await call(T("divide"), { a: 7, b: 0 });
    expect(r).toMatchObject({ isError: true, content: [{ type: "text", text: "division by zero" }] });
    expect(r.structuredContent).toBeUndefined();
  });

  it("a trap is a tool error, and the component serves its next call", async () => {
    await fails(F("crash"), {}, /wasm trap: .*unreachable/);
    await ok("add", { a: 20, b: 22 }, 42);
  });

  it("an endless loop ends at its deadline while other calls are answered, and the component serves again", async () => {
    const started = Date.now();
    const spinning = call(F("spin"), {});
    expect(textOf(await call("read-file", { path: "/data/hello.txt" }))).toBe("hello from the docs\n");
    const r = await spinning;
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain("timed out after 500 ms");
    expect(Date.now() - started).toBeLessThan(5000);
    await ok("add", { a: 1, b: 1 }, 2);
  });

  it("memory is capped at max_memory_mb: memory.grow past it fails", async () => {
    await ok(F("grow"), { pages: 10 }, 1);
    await ok(F("grow"), { pages: 100 }, -1);
  });

  it("filesystem.wasm: four tools with wassette's schemas", async () => {
    const tools = (await server.client.listTools()).tools.filter((t) => ["list-directory", "read-file", "search-file", "get-file-info"].includes(t.name));
    const result = (ok: unknown) => ({
      type: "object",
      properties: { result: { oneOf: [{ type: "object", properties: { ok }, required: ["ok"] }, { type: "object", properties: { err: { type: "string" } }, required: ["err"] }] } },
      required: ["result"],
    });
    const path = { path: { type: "string" } };
    expect(tools.map((t) => [t.name, t.inputSchema, t.outputSchema])).toEqual([
      ["list-directory", { type: "object", properties: path, required: ["path"] }, result({ type: "array", items: { type: "string" } })],
      ["read-file", { type: "object", properties: path, required: ["path"] }, result({ type: "string" })],
      ["search-file", { type: "object", properties: { ...path, pattern: { type: "string" } }, required: ["path", "pattern"] }, result({ type: "string" })],
      ["get-file-info", { type: "object", properties: path, required: ["path"] }, result({ type: "string" })],
    ]);
    expect(tools[1]!.description).toBe("read-file: func(path: string) -> result<string, string>");
  });

  it("filesystem.wasm reads a file under the granted guest path", async () => {
    const r = await call("read-file", { path: "/data/hello.txt" });
    expect(r.content).toEqual([{ type: "text", text: "hello from the docs\n" }]);
    expect(r.structuredContent).toEqual({ result: { ok: "hello from the docs\n" } });
    const list = await call("list-directory", { path: "/data" });
    expect(((list.structuredContent as { result: { ok: string[] } }).result.ok).sort()).toEqual(["[DIR] sub\n", "[FILE] hello.txt\n", "[FILE] link.txt\n"]);
  });

  it("filesystem.wasm is refused every path outside the granted directory", async () => {
    await fails("read-file", { path: "/etc/passwd" }, /failed to find a pre-opened file descriptor/);
    await fails("read-file", { path: "/data/../../../etc/passwd" }, /not permitted|pre-opened/i);
    await fails("read-file", { path: "/data/link.txt" }, /not permitted/i);
  });

  it("a socket is refused: the component gets access-denied, and the log says what was denied", async () => {
    const r = await call("open-socket", {});
    expect(r).toMatchObject({ isError: true, content: [{ type: "text", text: "access-denied" }] });
    expect(server.stderr()).toContain("denied: TCP socket: sockets are not granted to components");
  });
});

describe("a JavaScript component built with componentize-js", () => {
  let server: Connected;
  let http: Server;
  let port = 0;
  beforeAll(async () => {
    http = createServer((_req, res) => res.writeHead(204).end()).listen(0, "127.0.0.1");
    await new Promise((resolve) => http.once("listening", resolve));
    port = (http.address() as AddressInfo).port;
    const config = writeConfig(
      [
        `[cache]\ndirectory = "${CACHE}"\n`,
        component("js", "jsdemo.wasm", `allowed_hosts = ["127.0.0.1"]\n[[modules.tools]]\nfunction_name = "hang"\ntimeout_ms = 1000\n`),
      ].join("\n"),
    );
    server = await connect(["serve", "--config", config, "--no-watch"]);
  }, 90_000);
  afterAll(async () => {
    await server?.close();
    http?.close();
  });
  const call = (name: string, args: Record<string, unknown>) => server.client.callTool({ name, arguments: args });

  it("takes strings and returns a record with an option field", async () => {
    expect(textOf(await call("reverse", { s: "héllo" }))).toBe("olléh");
    expect((await call("analyze", { text: "the quick brown fox" })).structuredContent).toEqual({ result: { words: 4, chars: 19, "longest-word": "quick" } });
    expect((await call("analyze", { text: "" })).structuredContent).toEqual({ result: { words: 0, chars: 0, "longest-word": null } });
  });

  it("what it prints goes to the log on stderr, never to the protocol stream", async () => {
    expect(textOf(await call("shout", { msg: "hi" }))).toBe("HI");
    expect(server.stderr()).toContain("component stdout: stdout: hi");
    expect(server.stderr()).toContain("component stderr: stderr: hi");
  });

  it("reaches allowed_hosts over wasi:http, and no other host", async () => {
    const allowed = await call("fetch-status", { url: `http://127.0.0.1:${port}/` });
    expect(allowed.structuredContent).toEqual({ result: { ok: 204 } });
    const denied = await call("fetch-status", { url: `http://localhost:${port}/` });
    expect(denied.isError).toBe(true);
    expect(textOf(denied)).toMatch(/^fetch failed/);
    expect(server.stderr()).toContain(`denied: HTTP request to localhost:${port}`);
  });

  it("an endless JavaScript loop ends at its deadline, and the component serves again", async () => {
    const r = await call("hang", {});
    expect(textOf(r)).toContain("timed out after 1000 ms");
    expect(textOf(await call("reverse", { s: "ab" }))).toBe("ba");
  });
});

describe("what a component is, before it is served", () => {
  it("inspect reports a component with its WIT world and the tool each function becomes", async () => {
    const text = await runCli(["inspect", join(COMPONENTS, "kitchen.wasm")]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/kitchen\.wasm: WebAssembly component \(WASI 0\.2, binary format version 13\)/);
    expect(text.stdout).toContain("    export wasmforge:kitchen/types@0.1.0 {\n      numbers: func(a: u8, b: s8, c: u16, d: s16, e: u32, f: s32, g: u64, h: s64, i: f32, j: f64) -> f64;");
    expect(text.stdout).toMatch(/wasmforge:kitchen\/counters@0\.1\.0#peek: func\(c: borrow<counter>\) -> u32\n\s+skipped: takes or returns resource counter/);
    const json = await runCli(["inspect", join(COMPONENTS, "wassette", "filesystem.wasm"), "--json"]);
    const report = JSON.parse(json.stdout) as { abi: string; component: { world: string }; tools: { name: string }[] };
    expect(report.abi).toBe("component");
    expect(report.component.world).toContain("import wasi:filesystem/preopens@0.2.3;");
    expect(report.tools.map((t) => t.name)).toEqual(["list-directory", "read-file", "search-file", "get-file-info"]);
  });

  it("a component importing anything but WASI 0.2 does not load, naming the import; the others serve", async () => {
    const config = writeConfig(
      [`[cache]\ndirectory = "${CACHE}"\n`, component("foreign", "foreign.wasm"), component("net", "netprobe.wasm")].join("\n"),
    );
    const run = await runCli(["tools", "--config", config], { timeoutMs: 60_000 });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("open-socket");
    expect(run.stdout).toMatch(/module "foreign" \(.*foreign\.wasm\): imports wasmforge:foreign\/host@0\.1\.0 \(instance\), which WasmForge does not provide/);
    const inspected = await runCli(["inspect", join(COMPONENTS, "foreign.wasm")]);
    expect(inspected.stdout).toContain("it would not load: it imports wasmforge:foreign/host@0.1.0 (instance)");
  }, 60_000);
});
