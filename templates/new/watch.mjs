// npm run build:watch: a quick debug build whenever a file under assembly/ or asconfig.json
// changes (asc has no watch mode of its own); npm run build makes the optimized one. The .wasm is
// written to a temporary file and renamed into place, so a running "wasmforge serve" never reads a
// half-written module.
import { watch } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";

process.chdir(dirname(fileURLToPath(import.meta.url)));

let timer;
let running = false;
let again = false;

async function build() {
  if (running) {
    again = true;
    return;
  }
  running = true;
  const started = Date.now();
  const { error } = await asc.main(["--config", "asconfig.json", "--target", "debug"], {
    stdout: process.stdout,
    stderr: process.stderr,
    writeFile: async (name, contents, baseDir) => {
      const file = resolve(baseDir, name);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file + ".tmp", contents);
      await rename(file + ".tmp", file);
    },
  });
  const time = new Date().toLocaleTimeString();
  if (error) console.error("[" + time + "] build failed (the last good build stays in place): " + error.message);
  else console.error("[" + time + "] built in " + (Date.now() - started) + " ms");
  running = false;
  if (again) {
    again = false;
    void build();
  }
}

// Editors save in bursts (write, rename, touch): build once per burst.
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(build, 100);
}

watch("assembly", { recursive: true }, schedule);
watch(".", (_event, file) => {
  if (file === "asconfig.json") schedule();
});
console.error("watching assembly/ and asconfig.json (Ctrl-C to stop)");
void build();
