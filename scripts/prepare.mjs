// npm's `prepare` step: builds the CLI (dist/) when TypeScript is at hand, as after `npm install`
// in a clone. `npm install -g ./clone` runs it without the clone's devDependencies: then an
// existing build is used as it is, and without one the message says what works.
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const typescript = existsSync(new URL("../node_modules/typescript/package.json", import.meta.url));
if (typescript) {
  const build = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
  process.exit(build.status ?? 1);
}
if (existsSync(new URL("../dist/cli.js", import.meta.url))) process.exit(0);
process.stderr.write(
  "wasmforge: dist/ is not built and TypeScript is not installed here.\n" +
    "In the clone, run `npm install` first (it builds dist/); or install a package built from it:\n" +
    "  npm install && npm pack && npm install -g ./wasmforge-*.tgz\n",
);
process.exit(1);
