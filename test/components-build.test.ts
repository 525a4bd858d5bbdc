// Checks that the committed component fixtures built from WAT + WIT are exactly what
// `node scripts/build-components.mjs` produces today. The JavaScript one (jsdemo, built with
// componentize-js, about a minute and not a dependency) and wassette's filesystem.wasm (copied as
// it is) are not rebuilt here; modules/components/README.md says how they were made.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { MODULES, ROOT } from "./helpers.js";

const execFileAsync = promisify(execFile);

describe("component fixtures", () => {
  it("committed kitchen.wasm, netprobe.wasm and foreign.wasm match a fresh build of modules/components/", async () => {
    const out = await mkdtemp(path.join(tmpdir(), "wasmforge-components-build-"));
    try {
      await execFileAsync(process.execPath, [path.join(ROOT, "scripts", "build-components.mjs"), "--out", out], { cwd: ROOT });
      for (const file of ["kitchen.wasm", "netprobe.wasm", "foreign.wasm"]) {
        const fresh = await readFile(path.join(out, file));
        const committed = await readFile(path.join(MODULES, "components", file));
        expect(Buffer.compare(fresh, committed), `test-modules/components/${file} is stale: run \`node scripts/build-components.mjs\` and commit the result`).toBe(0);
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 60_000);
});
