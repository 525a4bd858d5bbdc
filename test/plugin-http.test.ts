// Extism plugins' http_request: only the hosts in allowed_hosts, every redirect hop checked.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { startGate } from "./gate.js";
import { connect, tempDir, textOf, withServer, writeConfig, type Connected } from "./helpers.js";
import { fetchPlugin } from "./wat.js";

describe("http_request from Extism plugins", () => {
  let web: Server;
  let port = 0;
  let dir: string;
  let server: Connected;
  const fetcher = (name: string, allowed: string, extra = "") =>
    `[[modules]]\nname = "${name}"\npath = ${JSON.stringify(join(dir, "fetch.wasm"))}\nallowed_hosts = [${allowed}]\n${extra}`;
  /** A server of its own, with another allowed_hosts. */
  const serving = (allowed: string, body: (server: Connected) => Promise<void>) =>
    withServer(["serve", "--config", writeConfig(fetcher("fetcher", allowed)), "--no-watch"], body);

  beforeAll(async () => {
    web = createServer((req, res) => {
      if (req.url === "/hello") return void res.end("hello from the test server");
      if (req.url === "/elsewhere") return void res.writeHead(302, { location: `http://localhost:${port}/hello` }).end();
      res.writeHead(404).end("no such page");
    });
    await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
    port = (web.address() as AddressInfo).port;
    dir = tempDir();
    writeFileSync(join(dir, "fetch.wasm"), fetchPlugin());
    // "stuck" is the same plugin with a short deadline, serving fetch as stuck_fetch.
    const stuck = fetcher("stuck", '"127.0.0.1"', 'timeout_ms = 3000\n[[modules.tools]]\nfunction_name = "fetch"\nname = "stuck_fetch"\n');
    server = await connect(["serve", "--config", writeConfig(fetcher("fetcher", '"127.0.0.1"') + stuck), "--no-watch"]);
  });
  afterAll(async () => {
    await server?.close();
    await new Promise<void>((resolve) => web.close(() => resolve()));
  });

  it("reaches a host in allowed_hosts", async () => {
    const result = await server.client.callTool({ name: "fetch", arguments: { url: `http://127.0.0.1:${port}/hello` } });
    expect(textOf(result)).toBe("hello from the test server");
  });

  it("is refused by default, naming the host and the key to add", async () => {
    await serving("", async (bare) => {
      const result = await bare.client.callTool({ name: "fetch", arguments: { url: `http://127.0.0.1:${port}/hello` } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/HTTP request to http:\/\/127\.0\.0\.1:\d+ is not allowed: add "127\.0\.0\.1" to the module's allowed_hosts/);
    });
  });

  it("checks every redirect hop", async () => {
    const result = await server.client.callTool({ name: "fetch", arguments: { url: `http://127.0.0.1:${port}/elsewhere` } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/add "localhost" to the module's allowed_hosts/);
    // A glob that covers both hosts follows the redirect.
    await serving('"127.0.0.*", "local*"', async (both) => {
      const followed = await both.client.callTool({ name: "fetch", arguments: { url: `http://127.0.0.1:${port}/elsewhere` } });
      expect(textOf(followed)).toBe("hello from the test server");
    });
  });

  it("a failed request is a tool error and the plugin serves again", async () => {
    const failed = await server.client.callTool({ name: "fetch", arguments: { url: "http://127.0.0.1:1/nothing" } });
    expect(failed.isError).toBe(true);
    expect(textOf(failed)).toMatch(/HTTP request to http:\/\/127\.0\.0\.1:1\/nothing failed/);
    const ok = await server.client.callTool({ name: "fetch", arguments: { url: `http://127.0.0.1:${port}/hello` } });
    expect(textOf(ok)).toBe("hello from the test server");
  });

  it("a request that hangs ends at the call's deadline, its connection is closed, and the next call works", async () => {
    const gate = await startGate(); // never opened
    try {
      const hung = await server.client.callTool({ name: "stuck_fetch", arguments: { url: gate.url } });
      expect(hung.isError).toBe(true);
      expect(textOf(hung)).toBe('tool "stuck_fetch" failed: timed out after 3000 ms');
      // The deadline ended the request itself, not only the wait for it: the worker that made it is gone.
      await expect.poll(() => gate.abandoned()).toBe(1);
      const ok = await server.client.callTool({ name: "stuck_fetch", arguments: { url: `http://127.0.0.1:${port}/hello` } });
      expect(textOf(ok)).toBe("hello from the test server");
    } finally {
      await gate.close();
    }
  });
});
