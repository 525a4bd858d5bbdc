// Hot reload: module and config changes reach connected clients without a restart.

import { afterEach, describe, expect, it } from "vitest";
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { heldModule, startGate } from "./gate.js";
import { connect, MODULES, startCall, tempDir, textOf, withServer, writeConfig, type Connected } from "./helpers.js";
import { mathModule } from "./wat.js";

function untilListChanged(server: Connected): Promise<void> {
  return new Promise((resolve) => server.client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
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
    await expect.poll(() => server!.stderr()).toMatch(/keeps serving its last good version/);
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
    await expect.poll(() => add(server!)).toBe("42");
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
    await expect.poll(() => server!.stderr()).toMatch(/reload failed, still serving the last good config: .*TOML syntax error/);
    expect(await add(server!)).toBe("13");
    writeFileSync(config, `[[modules]]\nname = "math"\npath = "math.wasm"\nbogus = 1\n`);
    await expect.poll(() => server!.stderr()).toMatch(/unknown key "bogus"/);
    expect(await add(server!)).toBe("13");
    const changed = untilListChanged(server!);
    writeFileSync(config, `[[modules]]\nname = "math"\npath = "math.wasm"\n[[modules.tools]]\nfunction_name = "add"\nname = "plus"\n`);
    await changed;
    expect(textOf(await server!.client.callTool({ name: "plus", arguments: { a: 1, b: 2 } }))).toBe("3");
  });

  it("calls in flight during a reload, running or still queued, finish on the version they started on", async () => {
    const gate = await startGate();
    try {
      const dir = tempDir();
      // pool_size = 4: one module may use three workers, so of four calls three run and one waits.
      const config = writeConfig(`[server]\npool_size = 4\n${heldModule(dir)}`, dir);
      server = await connect(["serve", "--config", config]);
      const calls = Array.from({ length: 4 }, () => startCall(server!.client, "fetch", { url: gate.url }));
      await Promise.all(calls.map((c) => c.received));
      await expect.poll(() => gate.waiting()).toBe(3);
      const changed = untilListChanged(server);
      writeFileSync(join(dir, "fetch.wasm"), mathModule("i32.add", "plus")); // fetch disappears
      await changed;
      expect((await server.client.listTools()).tools.map((t) => t.name)).toEqual(["plus"]);
      expect(gate.arrived()).toBe(3);
      gate.open("old version");
      const results = await Promise.all(calls.map((c) => c.result));
      expect(results.map((r) => [r.isError ?? false, textOf(r)])).toEqual(Array(4).fill([false, "old version"]));
      expect(gate.arrived()).toBe(4);
      expect(textOf(await server.client.callTool({ name: "plus", arguments: { a: 6, b: 7 } }))).toBe("13");
    } finally {
      await gate.close();
    }
  });

  it("--no-watch leaves the served version alone while a watching server reloads", async () => {
    const dir = tempDir();
    const module = join(dir, "math.wasm");
    writeFileSync(module, mathModule("i32.add"));
    const config = writeConfig(`[[modules]]\nname = "math"\npath = "math.wasm"\n`, dir);
    await withServer(["serve", "--config", config, "--no-watch"], async (unwatched) => {
      let heard = false;
      unwatched.client.setNotificationHandler(ToolListChangedNotificationSchema, () => void (heard = true));
      server = await connect(["serve", "--config", config]);
      const changed = untilListChanged(server);
      writeFileSync(module, mathModule("i32.mul"));
      // By the time the watching server has reloaded, the change has long reached every process.
      await changed;
      expect(await add(server)).toBe("42");
      expect(await add(unwatched)).toBe("13");
      expect(heard).toBe(false);
    });
  });
});
