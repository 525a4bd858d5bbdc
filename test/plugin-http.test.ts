// Extism plugins' http_request: only the hosts in allowed_hosts, every redirect hop checked.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import wabtInit from "wabt";
import { connect, tempDir, textOf, writeConfig } from "./helpers.js";

// fetch(): the plugin's input (the tool's JSON arguments) is the request; the answer body is its output.
const FETCH_PLUGIN = `(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/env" "http_request" (func $http_request (param i64 i64) (result i64)))
  (memory (export "memory") 1)
  (func (export "fetch") (result i32)
    (local $n i64) (local $i i64) (local $req i64) (local $resp i64)
    (local.set $n (call $input_length))
    (local.set $req (call $alloc (local.get $n)))
    (block $done (loop $copy
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (call $store_u8 (i64.add (local.get $req) (local.get $i)) (call $input_load_u8 (local.get $i)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $copy)))
    (local.set $resp (call $http_request (local.get $req) (i64.const 0)))
    (call $output_set (local.get $resp) (call $length (local.get $resp)))
    (i32.const 0)))`;

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
    const wabt = await wabtInit();
    writeFileSync(join(dir, "fetch.wasm"), wabt.parseWat("fetch.wat", FETCH_PLUGIN).toBinary({}).buffer);
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
