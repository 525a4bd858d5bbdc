// Extism plugins' http_request: only the hosts in allowed_hosts, every redirect hop checked.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { connect, tempDir, textOf, writeConfig } from "./helpers.js";
import { fetchPlugin } from "./wat.js";

describe("http_request from Extism plugins", () => {
  let web: Server;
  let port = 0;
  let dir: string;
  beforeAll(async () => {
    web = createServer((req, res) => {
      if (req.url === "/hello") return void res.end("hello from the test server");
      if (req.url === "/hang") return; // never answers
      if (req.url === "/elsewhere") return void res.writeHead(302, { location: `http://localhost:${port}/hello` }).end();
      res.writeHead(404).end("no such page");
    });
    await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
    port = (web.address() as AddressInfo).port;
    dir = tempDir();
    writeFileSync(join(dir, "fetch.wasm"), fetchPlugin());
  });
  afterAll(() => new Promise<void>((resolve) => web.close(() => resolve())));

  const serve = (allowed: string, extra = "") =>
    connect(["serve", "--config", writeConfig(`[[modules]]\nname = "fetcher"\npath = "fetch.wasm"\nallowed_hosts = [${allowed}]\n${extra}`, dir)]);

  it("reaches a host in allowed_hosts", async () => {
    const server = await serve('"127.0.0.1"');
    try {
      const result = await server.client.callTool({ name: "fetch", arguments: { url: `http://127.0.0.1:${port}/hello` } });
      expect(textOf(result)).toBe("hello from the test server");
    } finally {
      await server.close();
    }
  });

  it("is refused by default, naming the host and the key to add", async () => {
    const server = await serve("");
    try {
      const result = await server.client.callTool({ name: "fetch", arguments: { url: `http://127.0.0.1:${port}/hello` } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/HTTP request to http:\/\/127\.0\.0\.1:\d+ is not allowed: add "127\.0\.0\.1" to the module's allowed_hosts/);
    } finally {
      await server.close();
    }
  });

  it("checks every redirect hop", async () => {
    const server = await serve('"127.0.0.1"');
    try {
      const result = await server.client.callTool({ name: "fetch", arguments: { url: `http://127.0.0.1:${port}/elsewhere` } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/add "localhost" to the module's allowed_hosts/);
      // A glob that covers both hosts follows the redirect.
    } finally {
      await server.close();
    }
    const both = await serve('"127.0.0.*", "local*"');
    try {
      const result = await both.client.callTool({ name: "fetch", arguments: { url: `http://127.0.0.1:${port}/elsewhere` } });
      expect(textOf(result)).toBe("hello from the test server");
    } finally {
      await both.close();
    }
  });

  it("a failed request is a tool error and the plugin serves again", async () => {
    const server = await serve('"127.0.0.1"');
    try {
      const failed = await server.client.callTool({ name: "fetch", arguments: { url: "http://127.0.0.1:1/nothing" } });
      expect(failed.isError).toBe(true);
      expect(textOf(failed)).toMatch(/HTTP request to http:\/\/127\.0\.0\.1:1\/nothing failed/);
      const ok = await server.client.callTool({ name: "fetch", arguments: { url: `http://127.0.0.1:${port}/hello` } });
      expect(textOf(ok)).toBe("hello from the test server");
    } finally {
      await server.close();
    }
  });

  it("a request that hangs ends at the call's deadline, and the next call works", async () => {
    const server = await serve('"127.0.0.1"', "timeout_ms = 500\n");
    try {
      const started = Date.now();
      const hung = await server.client.callTool({ name: "fetch", arguments: { url: `http://127.0.0.1:${port}/hang` } });
      expect(hung.isError).toBe(true);
      expect(textOf(hung)).toContain("timed out after 500 ms");
      expect(Date.now() - started).toBeLessThan(5000);
      const ok = await server.client.callTool({ name: "fetch", arguments: { url: `http://127.0.0.1:${port}/hello` } });
      expect(textOf(ok)).toBe("hello from the test server");
    } finally {
      await server.close();
    }
  });
});
