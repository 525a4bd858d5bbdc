import { readFile } from "node:fs/promises";

/** Reads a module from disk; the error names the path and what to check. */
export async function readLocalModule(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new Error(`file not found: ${path}`);
    if (code === "EISDIR") throw new Error(`expected a .wasm file but found a directory: ${path}`);
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
}
