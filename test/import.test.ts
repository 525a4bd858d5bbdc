// `wasmforge import`: a WASImancer project (plugins.yml, resources.yml, prompts.yml) becomes a
// wasmforge.toml that the server loads and serves.

import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { beforeAll, describe, expect, it } from "vitest";
import { MODULES, runCli, tempDir } from "./helpers.js";

const PLUGINS = `
about: >
  The plugins of a WASImancer project.
plugins:
  - name: text tools
    path: /text/wasimancer-plugin-text.wasm
    version: 1.0.0
    description: text helpers
    functions:
      - displayName: countVowels
        function: count_vowels
        arguments:
          - name: text
            type: string
            description: the text to count in
        description: counts the vowels of a text
      - displayName: greet
        function: greet
        arguments:
          - name: name
            type: any
        description: says hello
`;

const RESOURCES = `
resources:
  static:
    - name: llm-instructions
      uri: llm://instructions
      contents:
        - text: you are a dungeon master.
    - name: user-profile
      uri: info://user
      contents:
        - text: User information
          firstName: John
        - text: Role administrator
  dynamic:
    - name: echo
      uri: echo://{message}
      arguments:
        - name: message
          type: string
      contents:
        - text: 'Resource echo: \${message}'
`;

const PROMPTS = `
prompts:
  predefined:
    - name: roll-dice
      arguments:
        - name: numFaces
          type: string
        - name: numDice
          type: string
      messages:
        - text: roll \${numDice} dice of \${numFaces} faces.
          role: user
        - text: Rolling...
          role: assistant
`;

/** A WASImancer project laid out as its docs show: plugins/, resources/, prompts/. */
function project(plugins = PLUGINS): string {
  const dir = tempDir("wasmforge-import-");
  mkdirSync(join(dir, "plugins", "text"), { recursive: true });
  mkdirSync(join(dir, "resources"));
  mkdirSync(join(dir, "prompts"));
  copyFileSync(join(MODULES, "text-plugin.wasm"), join(dir, "plugins", "text", "wasimancer-plugin-text.wasm"));
  writeFileSync(join(dir, "plugins", "plugins.yml"), plugins);
  writeFileSync(join(dir, "resources", "resources.yml"), RESOURCES);
  writeFileSync(join(dir, "prompts", "prompts.yml"), PROMPTS);
  return dir;
}

const importArgs = ["import", "plugins/plugins.yml", "--resources", "resources/resources.yml", "--prompts", "prompts/prompts.yml"];

describe("wasmforge import", () => {
  let dir: string;
  let stdout: string;
  let stderr: string;

  beforeAll(async () => {
    dir = project();
    const result = await runCli(importArgs, { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    ({ stdout, stderr } = result);
    writeFileSync(join(dir, "wasmforge.toml"), stdout);
  });

  it("turns plugins into modules with tool overrides, paths relative to where the TOML is saved", () => {
    const toml = parseToml(stdout) as Record<string, unknown>;
    expect(toml.modules).toEqual([
      {
        name: "text-tools",
        description: "text helpers",
        path: "plugins/text/wasimancer-plugin-text.wasm",
        tools: [
          {
            function_name: "count_vowels",
            name: "countVowels",
            description: "counts the vowels of a text",
            arguments: [{ name: "text", type: "string", description: "the text to count in" }],
          },
          {
            function_name: "greet",
            name: "greet",
            description: "says hello",
            input_schema: { type: "object", properties: { name: {} }, required: ["name"] },
          },
          // WASImancer serves only the functions it lists.
          { function_name: "roll_dice", hidden: true },
        ],
      },
    ]);
  });

  it("turns static resources into [[resources]], dynamic ones into [[resource_templates]], prompts into [[prompts]] with {{placeholders}}", () => {
    const toml = parseToml(stdout) as Record<string, unknown>;
    expect(toml.resources).toEqual([
      { name: "llm-instructions", uri: "llm://instructions", text: "you are a dungeon master." },
      { name: "user-profile", uri: "info://user", text: "User information\n\nRole administrator" },
    ]);
    expect(toml.resource_templates).toEqual([{ name: "echo", uri_template: "echo://{message}", text: "Resource echo: {{message}}" }]);
    expect(toml.prompts).toEqual([
      {
        name: "roll-dice",
        arguments: [
          { name: "numFaces", required: true },
          { name: "numDice", required: true },
        ],
        messages: [
          { role: "user", text: "roll {{numDice}} dice of {{numFaces}} faces." },
          { role: "assistant", text: "Rolling..." },
        ],
      },
    ]);
  });

  it("says on stderr what it changed or dropped", () => {
    expect(stderr).toMatch(/plugin "text tools" became module "text-tools"/);
    expect(stderr).toMatch(/argument "name" has type "any"/);
    expect(stderr).toMatch(/resource "user-profile": its 2 contents were joined/);
    expect(stderr).toMatch(/dropped content keys "firstName"/);
    expect(stderr).toMatch(/hid exports plugins.yml does not list: roll_dice/);
  });

  it("the result is a config the server loads: its tools list and run", async () => {
    const tools = await runCli(["tools", "--json", "-c", join(dir, "wasmforge.toml")]);
    expect(tools.code, tools.stderr).toBe(0);
    const report = JSON.parse(tools.stdout) as { tools: { name: string; description: string }[]; warnings: unknown[] };
    expect(report.tools.map((t) => t.name)).toEqual(["countVowels", "greet"]);
    expect(report.warnings).toEqual([]);
    const call = await runCli(["call", "countVowels", '{"text":"hello world"}', "-c", join(dir, "wasmforge.toml")]);
    expect(call).toMatchObject({ code: 0, stdout: '{"count":3,"text":"hello world"}\n' });
  });

  it("--base writes module paths relative to another directory", async () => {
    const out = join(dir, "config");
    mkdirSync(out, { recursive: true });
    const result = await runCli(["import", "plugins/plugins.yml", "--base", out], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect((parseToml(result.stdout) as { modules: { path: string }[] }).modules[0]!.path).toBe("../plugins/text/wasimancer-plugin-text.wasm");
  });

  it("bad input: a YAML syntax error names file and line; a plugin without a path names the key; nothing at all is a usage error", async () => {
    const broken = project("plugins:\n  - name: x\n    functions: [\n");
    const syntax = await runCli(["import", "plugins/plugins.yml"], { cwd: broken });
    expect(syntax.code).toBe(1);
    expect(syntax.stdout).toBe("");
    expect(syntax.stderr).toMatch(/plugins\/plugins\.yml:\d+:\d+: YAML syntax error/);

    const noPath = project("plugins:\n  - name: x\n    functions:\n      - function: f\n");
    const missing = await runCli(["import", "plugins/plugins.yml"], { cwd: noPath });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/plugins\[0\]\.path: required/);

    const badRole = project();
    writeFileSync(join(badRole, "prompts", "prompts.yml"), "prompts:\n  predefined:\n    - name: p\n      messages:\n        - text: hi\n          role: system\n");
    const role = await runCli(["import", "--prompts", "prompts/prompts.yml"], { cwd: badRole });
    expect(role.code).toBe(1);
    expect(role.stderr).toMatch(/prompt "p", messages\[0\]: role "system"/);

    const nothing = await runCli(["import"]);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/nothing to import/);
  });
});
