// Checks that the committed test-modules/ are exactly what
// `node scripts/build-modules.mjs` produces from modules/ today.
import { describe, it, expect } from "vitest";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const committedDir = path.join(root, "test-modules");

async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(path.join(dir, entry.name), rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

describe("example and fault modules", () => {
  it("committed test-modules/ match a fresh build of modules/", async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), "wasmforge-modules-"));
    try {
      const { stderr } = await execFileAsync(
        process.execPath,
        [path.join(root, "scripts", "build-modules.mjs"), "--out", outDir],
        { cwd: root, maxBuffer: 16 * 1024 * 1024 },
      );
      const built = await listFiles(outDir);
      // Components have their own build script and check (test/components-build.test.ts).
      const committed = (await listFiles(committedDir)).filter((f) => f.endsWith(".wasm") && !f.startsWith("components/"));
      expect(built.length).toBeGreaterThan(0);
      // one stderr line per module
      expect(stderr.trim().split("\n")).toHaveLength(built.length);
      // no module missing either way
      expect(committed).toEqual(built);
      for (const file of built) {
        const fresh = await readFile(path.join(outDir, file));
        const old = await readFile(path.join(committedDir, file));
        expect(
          Buffer.compare(fresh, old),
          `test-modules/${file} is stale: run \`npm run build:modules\` and commit the result`,
        ).toBe(0);
      }
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  }, 120_000);
});
