// A module that must be downloaded never holds up the start: `serve` answers at once with what is
// ready, and the downloaded module joins when it arrives (clients hear list_changed).

import { readFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { sha256Hex } from "../src/core/hash.js";
import { connect, MODULES, moduleEntry, tempDir, textOf, writeConfig } from "./helpers.js";

const TEXT = readFileSync(join(MODULES, "text.wasm"));

describe("downloads in the background", () => {
  let url: string;
  /** Responses to /held.wasm wait here until the test lets them go. */
  const held: ServerResponse[] = [];
  const origin = createServer((req, res) => {
    if (req.url === "/held.wasm") held.push(res);
    // /stalled.wasm: never answered
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    origin.closeAllConnections();
    await new Promise<void>((resolve) => origin.close(() => resolve()));
  });

  const config = (path: string) =>
    writeConfig(
      // No waiting at start: the test lets the download go when it wants.
      `[server]\ndownload_wait_ms = 0\n[cache]\ndirectory = ${JSON.stringify(join(tempDir(), "cache"))}\n\n` +
        moduleEntry("example", "example.wasm") +
        `[[modules]]\nname = "text"\nurl = "${url}${path}"\nsha256 = "${sha256Hex(TEXT)}"\n`,
    );

  it("a stalled origin does not hold up the start: local tools answer while it downloads", async () => {
    const server = await connect(["serve", "--config", config("/stalled.wasm"), "--no-watch"]);
    try {
      expect((await server.client.listTools()).tools.map((t) => t.name)).not.toContain("count_words");
      expect(textOf(await server.client.callTool({ name: "add", arguments: { a: 2, b: 2 } }))).toBe("4");
      expect(server.stderr()).toMatch(/module "text" still loading/);
    } finally {
      await server.close();
    }
  });

  it("a module that arrives later is served, and clients hear list_changed", async () => {
    const server = await connect(["serve", "--config", config("/held.wasm"), "--no-watch"]);
    try {
      const changed = new Promise<void>((resolve) => server.client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
      expect((await server.client.listTools()).tools.map((t) => t.name)).not.toContain("count_words");
      await expect.poll(() => held.length).toBe(1);
      held.shift()!.end(TEXT);
      await changed;
      expect((await server.client.listTools()).tools.map((t) => t.name)).toContain("count_words");
      expect(textOf(await server.client.callTool({ name: "count_words", arguments: { data: "one two three" } }))).toBe("3");
    } finally {
      await server.close();
    }
  });
});
