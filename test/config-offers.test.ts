// [[resources]], [[resource_templates]] and [[prompts]] from the config, through the SDK Client.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PromptListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { connect, moduleEntry, ROOT, tempDir, withServer, writeConfig, type Connected } from "./helpers.js";

const OFFERS = `
[[resources]]
name = "readme"
uri = "docs://readme"
description = "The project's readme"
mime_type = "text/markdown"
text = "# Hello"

[[resources]]
name = "notes"
uri = "file:///notes.txt"
path = "notes.txt"

[[resources]]
name = "logo"
uri = "img://logo"
mime_type = "image/png"
path = "logo.png"

[[resource_templates]]
name = "greeting"
uri_template = "greet://{first}/{last}"
description = "A personal greeting"
text = "Hello {{first}} {{last}}!"

[[prompts]]
name = "review"
description = "Review some code"
arguments = [{ name = "language", description = "Programming language", required = true }, { name = "focus", required = false }]
messages = [{ role = "user", text = "Review this {{language}} code, focusing on {{focus}}." }]
`;

describe("config resources and prompts", () => {
  let server: Connected;
  let dir: string;
  let config: string;
  beforeAll(async () => {
    dir = tempDir();
    writeFileSync(join(dir, "notes.txt"), "first note\n");
    writeFileSync(join(dir, "logo.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00]));
    config = writeConfig(moduleEntry("math", "example.wasm") + OFFERS, dir);
    server = await connect(["serve", "--config", config]);
  });
  afterAll(() => server.close());

  it("declares the resources and prompts capabilities", () => {
    const caps = server.client.getServerCapabilities();
    expect(caps?.resources).toBeDefined();
    expect(caps?.prompts).toBeDefined();
  });

  it("lists resources and templates", async () => {
    const { resources } = await server.client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(["docs://readme", "file:///notes.txt", "img://logo"]);
    expect(resources[0]).toMatchObject({ name: "readme", description: "The project's readme", mimeType: "text/markdown" });
    const { resourceTemplates } = await server.client.listResourceTemplates();
    expect(resourceTemplates).toEqual([expect.objectContaining({ uriTemplate: "greet://{first}/{last}", name: "greeting" })]);
  });

  it("reads inline text, a text file (read on request) and a binary file as a blob", async () => {
    expect((await server.client.readResource({ uri: "docs://readme" })).contents[0]).toMatchObject({ text: "# Hello", mimeType: "text/markdown" });
    expect((await server.client.readResource({ uri: "file:///notes.txt" })).contents[0]).toMatchObject({ text: "first note\n" });
    writeFileSync(join(dir, "notes.txt"), "second note\n");
    expect((await server.client.readResource({ uri: "file:///notes.txt" })).contents[0]).toMatchObject({ text: "second note\n" });
    const logo = (await server.client.readResource({ uri: "img://logo" })).contents[0] as { blob: string; mimeType: string };
    expect(logo.mimeType).toBe("image/png");
    expect(Buffer.from(logo.blob, "base64")).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00]));
  });

  it("fills a resource template's variables", async () => {
    const { contents } = await server.client.readResource({ uri: "greet://Ada/Lovelace" });
    expect(contents[0]).toMatchObject({ uri: "greet://Ada/Lovelace", text: "Hello Ada Lovelace!" });
  });

  it("an unknown resource is an error", async () => {
    await expect(server.client.readResource({ uri: "docs://nothing" })).rejects.toThrow(/not found/i);
  });

  it("gets a prompt with its arguments substituted", async () => {
    const { prompts } = await server.client.listPrompts();
    expect(prompts).toEqual([expect.objectContaining({ name: "review", arguments: expect.arrayContaining([expect.objectContaining({ name: "language", required: true })]) })]);
    const result = await server.client.getPrompt({ name: "review", arguments: { language: "Rust", focus: "safety" } });
    expect(result.messages).toEqual([{ role: "user", content: { type: "text", text: "Review this Rust code, focusing on safety." } }]);
  });

  it("a missing required argument is a clear error", async () => {
    await expect(server.client.getPrompt({ name: "review", arguments: { focus: "speed" } })).rejects.toThrow(/prompt "review": missing required argument "language"/);
  });

  it("a reload updates the prompts and tells the client", async () => {
    const changed = new Promise<void>((resolve) => server.client.setNotificationHandler(PromptListChangedNotificationSchema, () => resolve()));
    writeFileSync(config, moduleEntry("math", "example.wasm") + OFFERS.replace('name = "review"', 'name = "critique"'));
    await changed;
    const { prompts } = await server.client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(["critique"]);
  });
});

describe("a config without resources or prompts", () => {
  it("declares prompts and resources anyway, so a reload that adds the first prompt reaches a connected client", async () => {
    const dir = tempDir();
    const file = writeConfig(moduleEntry("example", "example.wasm"), dir);
    await withServer(["serve", "--config", file], async (server) => {
      const caps = server.client.getServerCapabilities();
      expect(caps).toMatchObject({ tools: { listChanged: true }, prompts: { listChanged: true }, resources: { listChanged: true } });
      expect((await server.client.listPrompts()).prompts).toEqual([]);
      const changed = new Promise<void>((resolve) => server.client.setNotificationHandler(PromptListChangedNotificationSchema, () => resolve()));
      writeFileSync(file, `${moduleEntry("example", "example.wasm")}\n[[prompts]]\nname = "first"\nmessages = [{ role = "user", text = "hi" }]\n`);
      await changed;
      expect((await server.client.listPrompts()).prompts.map((p) => p.name)).toEqual(["first"]);
    });
  });

  it("the example config in config/ loads", async () => {
    await withServer(["serve", "--config", join(ROOT, "config", "wasmforge.example.toml"), "--no-watch"], async (server) => {
      const { tools } = await server.client.listTools();
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(["add", "greeting", "count_vowels"]));
      expect(server.stderr()).not.toMatch(/error/);
    });
  });
});
