// Hot reload: module and config changes reach connected clients without a restart.

import { afterEach, describe, expect, it } from "vitest";
import { copyFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { connect, MODULES, tempDir, textOf, writeConfig, type Connected } from "./helpers.js";
import { mathModule } from "./wat.js";

function untilListChanged(server: Connected): Promise<void> {
  return new Promise((resolve) => server.client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const add = async (server: Connected) => textOf(await server.client.callTool({ name: "add", arguments: { a: 6, b: 7 } }));

describe("hot reload", () => {
  let server: Connected | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(): Promise<{ dir: string; config: string; module: string }> {
    const dir = tempDir();
    const module = join(dir, "math.wasm");
    writeFileSync(module, mathModule("i32.add"));
    const config = writeConfig(`[[modules]]\nname = "math"\npath = "math.wasm"\n`, dir);
    server = await connect(["serve", "--config", config]);
    expect(await add(server)).toBe("13");
    return { dir, config, module };
  }

  it("a module rewritten in place: list_changed, then the new behaviour", async () => {
    const { module } = await start();
    const changed = untilListChanged(server!);
    writeFileSync(module, mathModule("i32.mul"));
    await changed;
    expect(await add(server!)).toBe("42");
  });

  it("a module written to a temp file and renamed over the old one", async () => {
    const { dir, module } = await start();
    const changed = untilListChanged(server!);
    writeFileSync(join(dir, "math.wasm.tmp"), mathModule("i32.sub"));
    renameSync(join(dir, "math.wasm.tmp"), module);
    await changed;
    expect(await add(server!)).toBe("-1");
  });

  it("a corrupt module keeps the old version serving; fixing it reloads", async () => {
    const { module } = await start();
    writeFileSync(module, "\0asm\x01\0\0\0garbage");
    await eventually(async () => /keeps serving its last good version/.test(server!.stderr()), "the reload error").catch((err: Error) => {
      throw new Error(`${err.message}\n${server!.stderr()}`);
    });
    expect(await add(server!)).toBe("13");
    const changed = untilListChanged(server!);
    writeFileSync(module, mathModule("i32.mul"));
    await changed;
    expect(await add(server!)).toBe("42");
  });

  it("a module deleted and re-created at once is not a removed module", async () => {
    const { module } = await start();
    rmSync(module);
    writeFileSync(module, mathModule("i32.mul"));
    await eventually(async () => (await add(server!)) === "42", "the new version");
    const { tools } = await server!.client.listTools();
    expect(tools.map((t) => t.name)).toEqual(["add"]);
  });

  it("a module added to and removed from the config appears and disappears", async () => {
    const { config } = await start();
    let changed = untilListChanged(server!);
    writeFileSync(config, `[[modules]]\nname = "math"\npath = "math.wasm"\n[[modules]]\nname = "example"\npath = "${join(MODULES, "example.wasm")}"\n[[modules.tools]]\nfunction_name = "add"\nname = "example_add"\n`);
    await changed;
    let names = (await server!.client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["add", "example_add", "validate_url"]));
    changed = untilListChanged(server!);
    writeFileSync(config, `[[modules]]\nname = "example"\npath = "${join(MODULES, "example.wasm")}"\n`);
    await changed;
    names = (await server!.client.listTools()).tools.map((t) => t.name);
    expect(names).toContain("validate_url");
    expect(await add(server!)).toBe("13"); // now example.wasm's add
    expect(names).not.toContain("example_add");
  });

  it("a broken config keeps the last good one serving; fixing it reloads", async () => {
    const { config } = await start();
    writeFileSync(config, `[[modules]\nname = "math"\n`);
    await eventually(async () => /reload failed, still serving the last good config: .*TOML syntax error/.test(server!.stderr()), "the reload error");
    expect(await add(server!)).toBe("13");
    writeFileSync(config, `[[modules]]\nname = "math"\npath = "math.wasm"\nbogus = 1\n`);
    await eventually(async () => /unknown key "bogus"/.test(server!.stderr()), "the validation error");
    expect(await add(server!)).toBe("13");
    const changed = untilListChanged(server!);
    writeFileSync(config, `[[modules]]\nname = "math"\npath = "math.wasm"\n[[modules.tools]]\nfunction_name = "add"\nname = "plus"\n`);
    await changed;
    expect(textOf(await server!.client.callTool({ name: "plus", arguments: { a: 1, b: 2 } }))).toBe("3");
  });

  it("calls in flight during a reload all finish", async () => {
    const dir = tempDir();
    copyFileSync(join(MODULES, "faults", "slow.wasm"), join(dir, "slow.wasm"));
    writeFileSync(join(dir, "math.wasm"), mathModule("i32.add"));
    const config = writeConfig(`[[modules]]\nname = "slow"\npath = "slow.wasm"\n[[modules]]\nname = "math"\npath = "math.wasm"\n`, dir);
    server = await connect(["serve", "--config", config]);
    const calls = Array.from({ length: 6 }, () => server!.client.callTool({ name: "sleep_ms", arguments: { ms: 400 } }));
    const changed = untilListChanged(server!);
    await new Promise((r) => setTimeout(r, 50));
    writeFileSync(join(dir, "slow.wasm"), mathModule("i32.add", "plus")); // sleep_ms disappears
    writeFileSync(join(dir, "math.wasm"), mathModule("i32.mul"));
    await changed;
    const results = await Promise.all(calls).catch((err: Error) => {
      throw new Error(`${err.message}\n${server!.stderr()}`);
    });
    expect(results.map((r) => (r.isError ? textOf(r) : textOf(r)))).toEqual(Array(6).fill("400"));
    expect(await add(server!)).toBe("42");
  });

  it("--no-watch leaves the served version alone", async () => {
    const dir = tempDir();
    const module = join(dir, "math.wasm");
    writeFileSync(module, mathModule("i32.add"));
    const config = writeConfig(`[[modules]]\nname = "math"\npath = "math.wasm"\n`, dir);
    server = await connect(["serve", "--config", config, "--no-watch"]);
    writeFileSync(module, mathModule("i32.mul"));
    await new Promise((r) => setTimeout(r, 400));
    expect(await add(server)).toBe("13");
  });
});
