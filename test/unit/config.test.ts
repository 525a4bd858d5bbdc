// parseConfig: wasmforge.toml (and the managed file beside it) into a Config, and every refusal
// naming the file, the key path and what was expected.

import { describe, expect, it } from "vitest";
import { ConfigError, managedFileFor, parseConfig } from "../../src/config/load.js";

const FILE = "/srv/app/wasmforge.toml";
const MANAGED = "/srv/app/wasmforge.managed.toml";

/** The message parseConfig throws for `text` (and a managed file's text). */
function refusal(text: string, managed?: string): string {
  try {
    parseConfig(text, FILE, managed);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`the config was accepted:\n${text}`);
}

describe("parseConfig: what a config gives", () => {
  it("an empty file is every default", () => {
    const config = parseConfig("", FILE);
    expect(config.server).toMatchObject({ name: "wasmforge", timeout_ms: 10_000, max_memory_mb: 256, max_output_mb: 16, max_message_kb: 10_240 });
    expect(config.server.pool_size).toBeUndefined();
    expect(config.modules).toEqual([]);
    expect(config.dir).toBe("/srv/app");
    expect(config.managed).toEqual({ file: MANAGED, dir: "/srv/app/.wasmforge-managed", modules: [] });
  });

  it("module sources in every form: relative paths from the config's directory, pins in lower case", () => {
    const pin = "AB".repeat(32);
    const config = parseConfig(
      [
        `[[modules]]\nname = "rel"\npath = "mods/a.wasm"`,
        `[[modules]]\nname = "abs"\npath = "/opt/b.wasm"`,
        `[[modules]]\nname = "table"\n[modules.source]\ntype = "local"\npath = "c.wasm"`,
        `[[modules]]\nname = "web"\nurl = "https://example.com/d.wasm"\nsha256 = "${pin}"`,
        `[[modules]]\nname = "web2"\n[modules.source]\ntype = "http"\nurl = "https://example.com/e.wasm"\nchecksum = "${pin}"`,
        `[[modules]]\nname = "oci"\nurl = "oci://ghcr.io/org/tool:1.0"`,
        `[[modules]]\nname = "off"\npath = "f.wasm"\nenabled = false`,
      ].join("\n"),
      FILE,
    );
    expect(config.modules.map((m) => [m.name, m.source])).toEqual([
      ["rel", { kind: "local", path: "/srv/app/mods/a.wasm" }],
      ["abs", { kind: "local", path: "/opt/b.wasm" }],
      ["table", { kind: "local", path: "/srv/app/c.wasm" }],
      ["web", { kind: "http", url: "https://example.com/d.wasm", sha256: pin.toLowerCase() }],
      ["web2", { kind: "http", url: "https://example.com/e.wasm", sha256: pin.toLowerCase() }],
      ["oci", { kind: "oci", reference: { registry: "ghcr.io", repository: "org/tool", tag: "1.0" }, key: "url" }],
    ]);
  });

  it("a module's own limits win over the server's; the rest come from [server]", () => {
    const config = parseConfig(`[server]\ntimeout_ms = 500\nmax_memory_mb = 32\n[[modules]]\nname = "a"\npath = "a.wasm"\n[[modules]]\nname = "b"\npath = "b.wasm"\ntimeout_ms = 90\n`, FILE);
    expect(config.modules.map((m) => [m.timeoutMs, m.maxMemoryMb])).toEqual([
      [500, 32],
      [90, 32],
    ]);
  });

  it("the managed file's modules follow the config's, with paths from the config's directory", () => {
    expect(managedFileFor(FILE)).toBe(MANAGED);
    const config = parseConfig(`[[modules]]\nname = "own"\npath = "own.wasm"\n`, FILE, `[[modules]]\nname = "uploaded"\npath = ".wasmforge-managed/up.wasm"\n`);
    expect(config.modules.map((m) => m.name)).toEqual(["own", "uploaded"]);
    expect(config.modules[1]!.source).toEqual({ kind: "local", path: "/srv/app/.wasmforge-managed/up.wasm" });
    expect(config.managed.modules).toEqual(["uploaded"]);
  });
});

describe("parseConfig: refusals name the file, the key path and what was expected", () => {
  it("a TOML syntax error gives file:line:column", () => {
    expect(refusal(`[server]\nname = "x"\n[[modules]\nname = "a"\n`)).toBe(`${FILE}:3:11: TOML syntax error: expected end of table array declaration`);
    expect(refusal(`a = 1\n b = = 2\n`)).toBe(`${FILE}:2:6: TOML syntax error: invalid value`);
  });

  it("a wrong type names the key path, what was expected and what was found", () => {
    expect(refusal(`[server]\ntimeout_ms = "soon"\n`)).toBe(`${FILE}: invalid config:\n  server.timeout_ms: expected number, received string`);
    expect(refusal(`[[modules]]\nname = "a"\npath = "a.wasm"\n[[modules]]\nname = "b"\n[modules.source]\ntype = "local"\n`)).toBe(
      `${FILE}: invalid config:\n  modules[1].source.path: expected string, received undefined`,
    );
    expect(refusal(`[[modules]]\nname = "a"\npath = "a.wasm"\n[[modules.tools]]\nfunction_name = "f"\npattern = "nope"\n`)).toMatch(
      /^ {2}modules\[0\]\.tools\[0\]\.pattern: .*expected one of "i32_i32_to_i32"\|/m,
    );
  });

  it("every problem is listed, one per line", () => {
    const message = refusal(`[server]\ntimeout_ms = -5\nmax_memory_mb = 1.5\n`);
    expect(message.split("\n")).toEqual([`${FILE}: invalid config:`, expect.stringMatching(/^ {2}server\.timeout_ms: .*>0/), "  server.max_memory_mb: expected int, received number"]);
  });

  it("an unknown key is an error where it stands, with the advice to check the spelling", () => {
    expect(refusal(`bogus = 1\n`)).toBe(`${FILE}: invalid config:\n  unknown key "bogus" (check the spelling; see the config reference in the README)`);
    expect(refusal(`[[modules]]\nname = "a"\npath = "a.wasm"\npathh = 1\nurll = 2\n`)).toContain(`modules[0]: unknown keys "pathh", "urll" (check the spelling`);
    expect(refusal(`[[modules]]\nname = "a"\n[modules.source]\ntype = "local"\npath = "x.wasm"\npathh = "typo"\n`)).toContain(`modules[0].source: unknown key "pathh"`);
    expect(refusal(`[server]\ntimeout = 5\n`)).toContain(`server: unknown key "timeout"`);
  });

  it("a module needs exactly one source, and a pin only with a url", () => {
    expect(refusal(`[[modules]]\nname = "a"\n`)).toContain("modules[0]: expected one of `path`, `url` or a [modules.source] table");
    expect(refusal(`[[modules]]\nname = "a"\npath = "a.wasm"\nurl = "https://example.com/a.wasm"\n`)).toContain("modules[0]: give only one of `path`, `url`");
    expect(refusal(`[[modules]]\nname = "a"\npath = "a.wasm"\nsha256 = "${"a".repeat(64)}"\n`)).toContain("modules[0].sha256: a pin belongs to a `url` source");
    expect(refusal(`[[modules]]\nname = "a"\nurl = "https://example.com/a.wasm"\nsha256 = "abc"\n`)).toContain(
      "modules[0].sha256: expected 64 hexadecimal characters (a SHA-256 digest)",
    );
  });

  it("tool_prefix and hidden_tools are checked as the tool-name rule and regular expressions", () => {
    const message = refusal(`[[modules]]\nname = "a"\npath = "a.wasm"\ntool_prefix = "bad prefix"\nhidden_tools = ["("]\n`);
    expect(message).toContain(`modules[0].tool_prefix: expected 1-63 letters, digits, "_" or "-"`);
    expect(message).toContain("modules[0].hidden_tools[0]: not a valid regular expression");
  });

  it("a module name used twice in the config names the second entry", () => {
    expect(refusal(`[[modules]]\nname = "a"\npath = "a.wasm"\n[[modules]]\nname = "a"\npath = "b.wasm"\n`)).toBe(
      `${FILE}: modules[1].name: module name "a" is used twice; module names must be unique`,
    );
  });

  it("a module name in both the config and the managed file names both files and how to fix it", () => {
    expect(refusal(`[[modules]]\nname = "a"\npath = "a.wasm"\n`, `[[modules]]\nname = "a"\npath = "x.wasm"\n`)).toBe(
      `module name "a" is defined in both ${FILE} (modules[0]) and ${MANAGED} (modules[0]); rename one, or remove the managed one (DELETE /admin/modules/a)`,
    );
    expect(refusal(``, `[[modules]]\nname = "b"\npath = "x.wasm"\n[[modules]]\nname = "b"\npath = "y.wasm"\n`)).toBe(
      `${MANAGED}: modules[1].name: module name "b" is used twice; module names must be unique`,
    );
  });

  it("errors in the managed file name the managed file; it holds modules only", () => {
    expect(refusal(``, `[server]\nname = "x"\n`)).toBe(`${MANAGED}: invalid config:\n  unknown key "server" (check the spelling; see the config reference in the README)`);
    expect(refusal(``, `[[modules]\n`)).toMatch(new RegExp(`^${MANAGED.replaceAll(".", "\\.")}:1:\\d+: TOML syntax error`));
  });

  it("prompt names, resource URIs and URI templates are unique", () => {
    const prompt = (text: string) => `[[prompts]]\nname = "p"\nmessages = [{ role = "user", text = "${text}" }]\n`;
    expect(refusal(prompt("x") + prompt("y"))).toBe(`${FILE}: prompts[1]: prompt name "p" is used twice; each must be unique`);
    const resource = `[[resources]]\nname = "r"\nuri = "docs://readme"\ntext = "hi"\n`;
    expect(refusal(resource + resource)).toBe(`${FILE}: resources[1]: resource uri "docs://readme" is used twice; each must be unique`);
  });
});
