// The admin API of `serve --http`: upload, replace and remove modules at run time over real HTTP on
// 127.0.0.1, as WasmForge's own routes and as WASImancer's, seen by a connected SDK client.

import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { HELD_TIMEOUT_MS, startGate } from "./gate.js";
import { MODULES, moduleEntry, runCli, startCall, tempDir, textOf, writeConfig } from "./helpers.js";
import { connectHttp, serveNetwork, type Served } from "./network.js";
import { fetchPlugin, mathModule } from "./wat.js";

const TOKEN = "client-token-8e2a";
const ADMIN = "admin-token-51f7";
const HTTP_LINE = /http:\/\/127\.0\.0\.1:\d+\/mcp/;

/** The same module with a custom section appended: new bytes (and SHA-256), same behaviour. */
function withCustomSection(bytes: Uint8Array, tag: string): Uint8Array {
  const name = Buffer.from(tag);
  return Buffer.concat([bytes, Buffer.from([0, name.length + 1, name.length]), name]);
}

const module = (file: string) => new Uint8Array(readFileSync(join(MODULES, file)));

interface Form {
  file?: Uint8Array;
  fileField?: string;
  fields?: Record<string, string>;
}

/** A multipart request, as curl -F sends one. */
async function send(url: URL, method: string, options: { token?: string; form?: Form } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  let body: FormData | undefined;
  if (options.form) {
    body = new FormData();
    const { file, fileField = "wasm", fields = {} } = options.form;
    if (file) body.append(fileField, new Blob([file as Uint8Array<ArrayBuffer>]), "module.wasm");
    for (const [name, value] of Object.entries(fields)) body.append(name, value);
  }
  const headers: Record<string, string> = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Resolves at the next tools/list_changed this client receives. */
function nextListChanged(client: Client): Promise<void> {
  return new Promise((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
}

const toolNames = async (client: Client) => (await client.listTools()).tools.map((t) => t.name);

async function start(config: string, env: Record<string, string> = {}): Promise<{ server: Served; mcp: URL; admin: URL }> {
  const server = await serveNetwork(["-c", config, "--http", "0"], [HTTP_LINE], { WASMFORGE_TOKEN: TOKEN, WASMFORGE_ADMIN_TOKEN: ADMIN, ...env });
  const mcp = new URL(HTTP_LINE.exec(server.stderr())![0]);
  return { server, mcp, admin: new URL("/admin/modules", mcp) };
}

describe("admin API", () => {
  let dir: string;
  let config: string;
  let managedDir: string;
  let server: Served;
  let mcp: URL;
  let admin: URL;
  let client: Client;

  const stored = () => (existsSync(managedDir) ? readdirSync(managedDir).sort() : []);

  beforeAll(async () => {
    dir = tempDir();
    managedDir = join(dir, ".wasmforge-managed");
    config = writeConfig(`[server]\nmax_upload_mb = 1\n\n${moduleEntry("example", "example.wasm")}`, dir);
    ({ server, mcp, admin } = await start(config));
    const connected = await connectHttp(mcp, TOKEN);
    client = connected.client;
    await connected.listening;
  });
  afterAll(async () => {
    await client?.close();
    expect(await server.stop()).toBe(0);
  });

  it("without the admin token (none, a wrong one, the client's) the answer is 403 and nothing is written", async () => {
    const form = { file: module("text-plugin.wasm"), fields: { module: JSON.stringify({ name: "text" }) } };
    for (const token of [undefined, "wrong", TOKEN]) {
      const res = await send(admin, "POST", { token, form });
      expect(res.status).toBe(403);
      expect(res.body.error).toMatch(/Forbidden/);
    }
    expect((await send(new URL("/upload-plugin", mcp), "POST", { token: "wrong", form })).status).toBe(403);
    expect((await send(new URL("/admin/modules/example", mcp), "DELETE", {})).status).toBe(403);
    expect(existsSync(managedDir)).toBe(false);
    expect(existsSync(join(dir, "wasmforge.managed.toml"))).toBe(false);
  });

  it("a body the client only announces (Expect: 100-continue) is not asked for when the token is wrong", async () => {
    const answer = await new Promise<{ status: number; continued: boolean }>((resolve, reject) => {
      let continued = false;
      const req = request(admin, {
        method: "POST",
        headers: { authorization: "Bearer wrong", expect: "100-continue", "content-type": "multipart/form-data; boundary=x", "content-length": "1000" },
      });
      req.on("continue", () => (continued = true));
      req.on("response", (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, continued });
      });
      req.on("error", reject);
      req.flushHeaders();
    });
    expect(answer).toEqual({ status: 403, continued: false });
  });

  it("an upload is served at once: a connected client gets list_changed and calls the new tool", async () => {
    const changed = nextListChanged(client);
    const res = await send(admin, "POST", {
      token: ADMIN,
      form: { file: module("text-plugin.wasm"), fields: { module: JSON.stringify({ name: "text", description: "text tools", timeout_ms: 5000 }) } },
    });
    expect(res.status).toBe(201);
    expect(res.body.module).toMatchObject({ name: "text", managed: true, tools: ["count_vowels", "roll_dice", "greet"] });
    await changed;
    expect(await toolNames(client)).toContain("count_vowels");
    expect(textOf(await client.callTool({ name: "greet", arguments: { name: "Ada" } }))).toMatch(/Ada/);
    expect(stored()).toEqual([expect.stringMatching(/^text-[0-9a-f]{12}\.wasm$/)]);
    const listed = await send(admin, "GET", { token: ADMIN });
    expect(listed.body.modules).toEqual([
      expect.objectContaining({ name: "example", managed: false }),
      expect.objectContaining({ name: "text", managed: true, description: "text tools" }),
    ]);
  });

  it("uploading an existing name is refused with 409; PUT is the way to replace", async () => {
    const res = await send(admin, "POST", { token: ADMIN, form: { file: module("text-plugin.wasm"), fields: { module: JSON.stringify({ name: "text" }) } } });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatch(/PUT \/admin\/modules\/text/);
  });

  it("a module that does not compile is refused with 400 and nothing changes", async () => {
    const before = stored();
    const junk = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0x01, 0xff, 0xff]);
    const res = await send(admin, "POST", { token: ADMIN, form: { file: junk, fields: { module: JSON.stringify({ name: "junk" }) } } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/module "junk" does not load: not a valid WebAssembly module/);
    expect(stored()).toEqual(before);
    expect(await toolNames(client)).not.toContain("junk");
    expect((await send(admin, "GET", { token: ADMIN })).body.modules).toHaveLength(2);
  });

  it("a tool name another module serves is refused with 400, naming that module", async () => {
    const before = stored();
    const res = await send(admin, "POST", { token: ADMIN, form: { file: mathModule("i32.sub"), fields: { module: JSON.stringify({ name: "clash" }) } } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/tool name "add" .* is already served by module "example"/);
    expect(stored()).toEqual(before);
    expect(textOf(await client.callTool({ name: "add", arguments: { a: 2, b: 3 } }))).toBe("5");
  });

  it("a definition that sets a path, or names an export the module lacks, is refused with 400", async () => {
    const withPath = await send(admin, "POST", {
      token: ADMIN,
      form: { file: mathModule("i32.sub", "minus"), fields: { module: JSON.stringify({ name: "minus", path: "/etc/passwd" }) } },
    });
    expect(withPath.status).toBe(400);
    expect(withPath.body.error).toMatch(/module\.path: not accepted/);
    const missing = await send(admin, "POST", {
      token: ADMIN,
      form: { file: mathModule("i32.sub", "minus"), fields: { module: JSON.stringify({ name: "minus", tools: [{ function_name: "nope" }] }) } },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatch(/function_name "nope" is not exported/);
    const badName = await send(new URL("/admin/modules/..%2Fetc", mcp), "PUT", { token: ADMIN, form: { file: mathModule("i32.sub", "minus") } });
    expect(badName.status).toBe(400);
    expect(stored()).toEqual([expect.stringMatching(/^text-/)]);
  });

  it("an upload over max_upload_mb gets 413 and leaves nothing behind", async () => {
    const before = stored();
    const big = new Uint8Array(2 * 1024 * 1024);
    big.set([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    const res = await send(admin, "POST", { token: ADMIN, form: { file: big, fields: { module: JSON.stringify({ name: "big" }) } } });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatch(/max_upload_mb/);
    expect(stored()).toEqual(before);

    // Declared too large up front: refused from the headers alone.
    const declared = await new Promise<number>((resolve, reject) => {
      const req = request(admin, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}`, "content-type": "multipart/form-data; boundary=x", "content-length": String(100 * 1024 * 1024) },
      });
      req.on("response", (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      });
      req.on("error", reject);
      req.flushHeaders();
    });
    expect(declared).toBe(413);
    expect(stored()).toEqual(before);
  });

  it("a client that hangs up in the middle of an upload leaves nothing behind", async () => {
    const before = stored();
    const req = request(admin, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "multipart/form-data; boundary=XX" },
    });
    req.on("error", () => undefined);
    req.write('--XX\r\nContent-Disposition: form-data; name="wasm"; filename="m.wasm"\r\nContent-Type: application/octet-stream\r\n\r\n');
    req.write(Buffer.alloc(300_000, 1));
    const partial = () => stored().some((f) => f.endsWith(".part"));
    await expect.poll(partial).toBe(true);
    req.destroy();
    await expect.poll(partial).toBe(false);
    expect(stored()).toEqual(before);
  });

  it("replacing a module under a stream of calls: none fails, and after the PUT the new version answers", async () => {
    const added = nextListChanged(client);
    expect((await send(admin, "POST", { token: ADMIN, form: { file: mathModule("i32.add", "combine"), fields: { module: JSON.stringify({ name: "math" }) } } })).status).toBe(201);
    await added;
    const combine = () => client.callTool({ name: "combine", arguments: { a: 6, b: 7 } });
    expect(textOf(await combine())).toBe("13");
    const oldFiles = stored();

    let replaced = false;
    const results: string[] = [];
    const caller = async () => {
      // Keep calling until a few calls after the replacement went through.
      for (let after = 0; after < 5; after += replaced ? 1 : 0) {
        const result = await combine();
        expect(result.isError).toBeFalsy();
        results.push(textOf(result));
      }
    };
    const callers = Array.from({ length: 8 }, caller);
    // Calls are flowing before the replacement starts.
    await expect.poll(() => results.length).toBeGreaterThanOrEqual(16);
    const res = await send(new URL("/admin/modules/math", mcp), "PUT", { token: ADMIN, form: { file: mathModule("i32.mul", "combine") } });
    replaced = true;
    expect(res.status).toBe(200);
    await Promise.all(callers);
    expect(new Set(results)).toEqual(new Set(["13", "42"]));
    expect(textOf(await combine())).toBe("42");
    // The old version's file is gone; the new one is stored under its own hash.
    const now = stored();
    expect(now.filter((f) => f.startsWith("math-"))).toHaveLength(1);
    expect(now).not.toEqual(oldFiles);
  });

  it("a call running while its module is replaced finishes on the old version; the next call meets the new one", async () => {
    const gate = await startGate();
    try {
      const definition = JSON.stringify({ name: "held", allowed_hosts: ["127.0.0.1"], timeout_ms: HELD_TIMEOUT_MS });
      expect((await send(admin, "POST", { token: ADMIN, form: { file: fetchPlugin(), fields: { module: definition } } })).status).toBe(201);
      const running = startCall(client, "fetch", { url: gate.url });
      await running.running;
      await expect.poll(() => gate.waiting()).toBe(1);
      // Version 2 is another module altogether: its fetch multiplies.
      const res = await send(new URL("/admin/modules/held", mcp), "PUT", {
        token: ADMIN,
        form: { file: mathModule("i32.mul", "fetch"), fields: { module: JSON.stringify({ description: "held, version 2" }) } },
      });
      expect(res.status).toBe(200);
      expect(res.body.module).toMatchObject({ description: "held, version 2", tools: ["fetch"] });
      expect(gate.waiting()).toBe(1);
      gate.open("old version");
      const result = await running.result;
      expect(result.isError).toBeFalsy();
      expect(textOf(result)).toBe("old version");
      expect(textOf(await client.callTool({ name: "fetch", arguments: { a: 6, b: 7 } }))).toBe("42");
    } finally {
      await gate.close();
    }
  });

  it("WASImancer's routes work: upload, update and remove a plugin; a client-supplied path or dir is ignored", async () => {
    const pluginData = (version: string) =>
      JSON.stringify({
        name: "vowels",
        path: "../../escape/vowels.wasm",
        version,
        description: "count vowels",
        functions: [
          {
            displayName: "countVowels",
            function: "count_vowels",
            description: "counts the vowels",
            arguments: [{ name: "text", type: "string", description: "the text" }],
          },
        ],
      });
    const changed = nextListChanged(client);
    const uploaded = await send(new URL(`/upload-plugin?dir=${encodeURIComponent(join(dir, "escape"))}`, mcp), "POST", {
      token: ADMIN,
      form: { file: module("text-plugin.wasm"), fileField: "wasmFile", fields: { pluginData: pluginData("1.0.0") } },
    });
    expect(uploaded.status).toBe(200);
    await changed;
    const tools = (await client.listTools()).tools;
    expect(tools.find((t) => t.name === "countVowels")).toMatchObject({ description: "counts the vowels", inputSchema: { required: ["text"] } });
    // Only the listed function is served, as WASImancer does; the module's other exports stay hidden.
    expect((uploaded.body.module as { tools: string[] }).tools).toEqual(["countVowels"]);
    expect(JSON.parse(textOf(await client.callTool({ name: "countVowels", arguments: { text: "hello world" } })))).toMatchObject({ count: 3 });
    expect(existsSync(join(dir, "escape"))).toBe(false);
    expect(stored()).toContainEqual(expect.stringMatching(/^vowels-[0-9a-f]{12}\.wasm$/));

    const updated = await send(new URL("/update-plugin", mcp), "PUT", {
      token: ADMIN,
      form: { file: withCustomSection(module("text-plugin.wasm"), "1.0.1"), fileField: "wasmFile", fields: { pluginData: pluginData("1.0.1") } },
    });
    expect(updated.status).toBe(200);
    expect(stored().filter((f) => f.startsWith("vowels-"))).toHaveLength(1);

    const removed = await send(new URL("/remove-plugin/vowels", mcp), "DELETE", { token: ADMIN });
    expect(removed.status).toBe(200);
    expect(await toolNames(client)).not.toContain("countVowels");
    expect(stored().filter((f) => f.startsWith("vowels-"))).toHaveLength(0);
  });

  it("remove: the tools go, clients are told, the file is deleted; config modules cannot be removed", async () => {
    const changed = nextListChanged(client);
    const res = await send(new URL("/admin/modules/math", mcp), "DELETE", { token: ADMIN });
    expect(res.status).toBe(200);
    await changed;
    expect(await toolNames(client)).not.toContain("combine");
    expect(await client.callTool({ name: "combine", arguments: { a: 1, b: 2 } }).catch((err: Error) => err.message)).toMatch(/Unknown tool/);
    expect(stored().filter((f) => f.startsWith("math-"))).toHaveLength(0);
    expect((await send(new URL("/admin/modules/math", mcp), "DELETE", { token: ADMIN })).status).toBe(404);
    const configModule = await send(new URL("/admin/modules/example", mcp), "DELETE", { token: ADMIN });
    expect(configModule.status).toBe(409);
    expect(configModule.body.error).toMatch(/defined in .*wasmforge\.toml/);
  });

  it("a restart on the same config serves the same managed set", async () => {
    const before = (await send(admin, "GET", { token: ADMIN })).body.modules;
    const restarted = await start(config);
    try {
      expect((await send(restarted.admin, "GET", { token: ADMIN })).body.modules).toEqual(before);
      const { client: other } = await connectHttp(restarted.mcp, TOKEN);
      expect(textOf(await other.callTool({ name: "greet", arguments: { name: "Bo" } }))).toMatch(/Bo/);
      await other.close();
    } finally {
      expect(await restarted.server.stop()).toBe(0);
    }
  });
});

describe("admin API set-up", () => {
  it("is off without an admin token, and refuses to start when it equals the client token", async () => {
    const config = writeConfig(moduleEntry("example", "example.wasm"));
    const { server, admin } = await start(config, { WASMFORGE_ADMIN_TOKEN: "" });
    try {
      const res = await fetch(admin, { headers: { authorization: `Bearer ${ADMIN}` } });
      expect(res.status).toBe(404);
      expect(await res.text()).toMatch(/admin API is off/);
    } finally {
      await server.stop();
    }
    const same = await runCli(["serve", "-c", config, "--no-watch", "--http", "0"], { env: { WASMFORGE_TOKEN: TOKEN, WASMFORGE_ADMIN_TOKEN: TOKEN } });
    expect(same.code).toBe(1);
    expect(same.stderr).toMatch(/same token as clients/);
  });

  it("a managed module named like a config module is an error naming both files", async () => {
    const dir = tempDir();
    const config = writeConfig(moduleEntry("example", "example.wasm"), dir);
    writeFileSync(join(dir, "wasmforge.managed.toml"), moduleEntry("example", "text.wasm"));
    const res = await runCli(["tools", "-c", config]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`module name "example" is defined in both ${config} (modules[0]) and ${join(dir, "wasmforge.managed.toml")} (modules[0])`);
  });
});
