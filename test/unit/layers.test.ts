// Imports run one way: each folder of src/ imports only from the folders above it in
// docs/architecture.md's order, never below, so no circle can form between them.

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";

const ORDER = ["core", "config", "sources", "wasm", "discovery", "runtime", "server", "admin", "cluster", "transports", "cli"];
const SRC = join(ROOT, "src");

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

/** The folder's place in the order; the top-level files (cli.ts, version.ts) are outside it. */
function rank(file: string): number {
  const top = relative(SRC, file).split("/")[0]!;
  if (top === "cli.ts") return ORDER.length;
  if (top === "version.ts") return -1;
  return ORDER.indexOf(top);
}

describe("the folders of src/", () => {
  it("every folder is in the order", () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(folders.filter((f) => !ORDER.includes(f))).toEqual([]);
  });

  it("no files import each other in a circle, within a folder either", () => {
    const graph = new Map<string, string[]>();
    for (const file of files(SRC)) {
      graph.set(
        relative(SRC, file),
        [...readFileSync(file, "utf8").matchAll(/from "(\.[^"]+)"/g)].map((m) => relative(SRC, resolve(dirname(file), m[1]!).replace(/\.js$/, ".ts"))),
      );
    }
    const circles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (node: string, path: string[]) => {
      if (state.get(node) === "done") return;
      if (state.get(node) === "open") return void circles.push([...path.slice(path.indexOf(node)), node].join(" -> "));
      state.set(node, "open");
      for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
      state.set(node, "done");
    };
    for (const node of graph.keys()) visit(node, []);
    expect(circles).toEqual([]);
  });

  it("no file imports from a folder below its own", () => {
    const upward: string[] = [];
    for (const file of files(SRC)) {
      for (const match of readFileSync(file, "utf8").matchAll(/from "(\.[^"]+)"/g)) {
        const target = resolve(dirname(file), match[1]!).replace(/\.js$/, ".ts");
        if (rank(target) > rank(file)) upward.push(`${relative(SRC, file)} imports ${relative(SRC, target)}`);
      }
    }
    expect(upward).toEqual([]);
  });
});
