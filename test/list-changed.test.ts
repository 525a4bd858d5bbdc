// A plugin that describes itself announces that its lists changed (hyper-mcp's
// notify_tool_list_changed, notify_prompt_list_changed): WasmForge lists that module again and
// tells clients of both eras, through the built CLI over HTTP (2026 listen streams hear it through
// the event bus, 2025 sessions on their GET stream) and over stdio.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PromptListChangedNotificationSchema, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { connectEra, type Where } from "./clients.js";
import { moduleEntry, textOf, writeConfig } from "./helpers.js";
import { serveNetwork, type Served } from "./network.js";

const HTTP_LINE = /http:\/\/127\.0\.0\.1:\d+\/mcp/;
// One worker: the plugin keeps "grown" in a variable of the worker that ran the call.
const CONFIG = `[server]\npool_size = 1\n\n${moduleEntry("growing", "growing-plugin.wasm")}`;

describe("a plugin announces that its tools and prompts changed", () => {
  let served: Served;
  let http: Where;
  beforeAll(async () => {
    served = await serveNetwork(["-c", writeConfig(CONFIG), "--no-watch", "--http", "0"], [HTTP_LINE], { WASMFORGE_TOKEN: "" });
    http = { http: new URL(HTTP_LINE.exec(served.stderr())![0]) };
  });
  afterAll(() => served.stop());

  it("over HTTP, the module is listed again and a 2026 listen stream and a 2025 session both hear it", async () => {
    const modern = await connectEra("2026", http);
    const legacy = await connectEra("2025", http);
    try {
      expect((await legacy.client.listTools()).tools.map((t) => t.name)).toEqual(["grow"]);
      expect((await modern.client.listPrompts()).prompts).toEqual([]);
      const heard = (kind: "tools" | "prompts") => ({
        modern: new Promise<void>((resolve) => modern.client.setNotificationHandler(`notifications/${kind}/list_changed`, () => resolve())),
        legacy: new Promise<void>((resolve) =>
          legacy.client.setNotificationHandler(kind === "tools" ? ToolListChangedNotificationSchema : PromptListChangedNotificationSchema, () => resolve()),
        ),
      });
      const tools = heard("tools");
      const prompts = heard("prompts");
      const subscription = await modern.client.listen({ toolsListChanged: true, promptsListChanged: true });

      expect(textOf(await legacy.client.callTool({ name: "grow", arguments: {} }))).toBe("grew");
      await Promise.all([tools.modern, tools.legacy, prompts.modern, prompts.legacy]);

      expect((await modern.client.listTools(undefined, { cacheMode: "refresh" })).tools.map((t) => t.name)).toEqual(["grow", "grown"]);
      expect((await legacy.client.listPrompts()).prompts.map((p) => p.name)).toEqual(["grown_prompt"]);
      expect(textOf(await modern.client.callTool({ name: "grown", arguments: {} }))).toBe("I was added");
      expect(served.stderr()).toMatch(/module "growing" announced that its tools and prompts changed; it now offers 2 tool\(s\), 1 prompt\(s\)/);
      await subscription.close();
    } finally {
      await Promise.all([modern.client.close(), legacy.client.close()]);
    }
  });

  it("over stdio, a 2025 client hears list_changed on its connection and sees the new tool", async () => {
    const { client } = await connectEra("2025", { stdio: ["serve", "--config", writeConfig(CONFIG), "--no-watch"] });
    try {
      const heard = new Promise<void>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
      expect(textOf(await client.callTool({ name: "grow", arguments: {} }))).toBe("grew");
      await heard;
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["grow", "grown"]);
    } finally {
      await client.close();
    }
  });
});
