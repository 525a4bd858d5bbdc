// The package as users install it: `npm pack`, then `npm install -g` of the tarball into a fresh
// prefix (runtime dependencies only). The installed bin must serve, and scaffold a project. (Packed
// with --ignore-scripts: the build is the suite's own, and rebuilding dist/ would pull it from
// under the other tests.)

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jsonLines, ROOT, tempDir } from "./helpers.js";

describe("the packed package", () => {
  it("carries what it runs and nothing else, installs globally, and its bin serves and scaffolds", () => {
    const dir = tempDir("wasmforge-pack-");
    const packed = JSON.parse(execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })) as {
      filename: string;
      files: { path: string }[];
    }[];
    const files = packed[0]!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(["dist/cli.js", "templates/new/assembly/index.ts", "modules/extism/pdk.ts", "package.json", "README.md"]));
    expect(files.filter((f) => f.endsWith(".map") || f.startsWith("src/") || f.startsWith("test") || f.endsWith(".wasm"))).toEqual([]);

    const prefix = join(dir, "prefix");
    const install = spawnSync("npm", ["install", "-g", "--prefix", prefix, join(dir, packed[0]!.filename), "--prefer-offline", "--no-audit", "--no-fund"], { encoding: "utf8" });
    expect(install.status, install.stderr).toBe(0);
    const bin = join(prefix, "bin", "wasmforge");
    const served = spawnSync(bin, ["serve", "--config", join(ROOT, "wasmforge.toml")], {
      input: `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })}\n`,
      encoding: "utf8",
    });
    expect(served.status, served.stderr).toBe(0);
    expect(jsonLines(served.stdout)[0]).toMatchObject({ id: 1, result: { tools: expect.arrayContaining([expect.objectContaining({ name: "add" })]) } });

    const project = join(dir, "demo");
    const created = spawnSync(bin, ["new", "demo", "--dir", project], { encoding: "utf8" });
    expect(created.status, created.stderr).toBe(0);
    expect(readdirSync(project).sort()).toEqual([".gitignore", "README.md", "asconfig.json", "assembly", "package.json", "wasmforge.toml", "watch.mjs"]);
    expect(existsSync(join(project, "assembly", "pdk.ts"))).toBe(true);
  }, 120_000);
});
