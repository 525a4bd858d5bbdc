// Finding the WebAssembly module in one OCI layer, already downloaded and verified: a raw wasm
// blob (the CNCF wasm artifact layout), or a tar / tar.gz holding `plugin.wasm` or exactly one
// `.wasm` (images built `FROM scratch` with `COPY plugin.wasm /plugin.wasm`, as hyper-mcp's are).
// The archive is untrusted: sizes are checked on each header before anything is read, the whole
// unpacked stream is bounded (gzip bombs), and names that climb out (`..`, absolute) are ignored.

import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract as tarExtract } from "tar-stream";
import { formatBytes } from "../core/format.js";
import { log } from "../core/log.js";

/** The CNCF wasm artifact layer type (wasm-to-oci, wkg, wassette's components). */
export const WASM_LAYER_TYPE = "application/vnd.wasm.content.layer.v1+wasm";

/** The file hyper-mcp looks for first in an image layer. */
const PLUGIN_FILE = "plugin.wasm";

export class LayerError extends Error {}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];
const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

const startsWith = (bytes: Uint8Array, magic: number[]) => magic.every((b, i) => bytes[i] === b);

/**
 * The module in the layer stored in `file`, or undefined when the layer holds none (an empty
 * layer, a config file). `maxBytes` bounds the module and every archive entry; the unpacked
 * archive may be at most twice that.
 */
export async function wasmFromLayer(file: string, mediaType: string, maxBytes: number): Promise<Uint8Array | undefined> {
  const head = await readHead(file, 512);
  if (startsWith(head, WASM_MAGIC)) return readWhole(file, maxBytes);
  if (mediaType === WASM_LAYER_TYPE) throw new LayerError(`the layer has the wasm media type (${WASM_LAYER_TYPE}) but does not start with \\0asm: it is not WebAssembly`);
  if (startsWith(head, GZIP_MAGIC)) return wasmFromTar(file, true, maxBytes);
  if (startsWith(head, ZSTD_MAGIC)) {
    throw new LayerError("the layer is zstd-compressed, which WasmForge cannot unpack on this Node.js; push the image with gzip or uncompressed layers");
  }
  if (isUstar(head) || mediaType.includes("tar")) return wasmFromTar(file, false, maxBytes);
  return undefined;
}

/** POSIX and GNU tar headers carry "ustar" at offset 257. */
function isUstar(head: Uint8Array): boolean {
  return Buffer.from(head.subarray(257, 262)).toString("latin1") === "ustar";
}

async function readHead(file: string, length: number): Promise<Uint8Array> {
  const handle = await open(file, "r");
  try {
    const buffer = new Uint8Array(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function readWhole(file: string, maxBytes: number): Promise<Uint8Array> {
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) throw new LayerError(`the module is ${formatBytes(size)}, over the ${formatBytes(maxBytes)} download limit; raise [server] max_download_mb if that is expected`);
    const bytes = new Uint8Array(size);
    await handle.read(bytes, 0, size, 0);
    return bytes;
  } finally {
    await handle.close();
  }
}

/** A tar entry name as a relative path, or undefined for names that could point outside (absolute, `..`). */
export function safeEntryPath(name: string): string | undefined {
  if (name.startsWith("/") || name.includes("\\")) return undefined;
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0 || parts.includes("..")) return undefined;
  return parts.join("/");
}

interface Found {
  path: string;
  bytes: Uint8Array;
}

async function wasmFromTar(file: string, gzipped: boolean, maxBytes: number): Promise<Uint8Array | undefined> {
  const unpackedLimit = 2 * maxBytes;
  let unpacked = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      unpacked += chunk.length;
      if (unpacked > unpackedLimit) {
        return callback(new LayerError(`the layer unpacks to more than ${formatBytes(unpackedLimit)} (twice [server] max_download_mb); refusing to read further`));
      }
      callback(null, chunk);
    },
  });
  const extract = tarExtract();
  const stages = gzipped ? [createReadStream(file), createGunzip(), meter] : [createReadStream(file), meter];
  const piped = pipeline([...stages, extract]);
  piped.catch(() => undefined); // awaited below; this keeps an early failure from being "unhandled"

  let plugin: Found | undefined;
  let other: Found | undefined;
  const others: string[] = [];
  try {
    for await (const entry of extract) {
      const { name, size = 0, type } = entry.header;
      if (size > maxBytes) {
        throw new LayerError(
          `tar entry "${name}" claims ${formatBytes(size)}, over the ${formatBytes(maxBytes)} limit ([server] max_download_mb); it was not read`,
        );
      }
      const path = safeEntryPath(name);
      const regular = type === "file" || type === "contiguous-file";
      if (!path || !regular || !path.endsWith(".wasm")) {
        if (path === undefined) log.debug(`OCI layer: ignoring tar entry "${name}" (absolute or climbing out with "..")`);
        entry.resume();
        continue;
      }
      const bytes = await readEntry(entry);
      if (!startsWith(bytes, WASM_MAGIC)) {
        log.debug(`OCI layer: ${path} is named .wasm but is not WebAssembly; skipped`);
        continue;
      }
      const depth = path.split("/").length;
      if (path.split("/").pop() === PLUGIN_FILE) {
        if (!plugin || depth < plugin.path.split("/").length) plugin = { path, bytes };
      } else {
        others.push(path);
        other ??= { path, bytes };
      }
    }
    await piped;
  } catch (err) {
    extract.destroy();
    // The limit may have stopped the pipeline first; its reason is the one to give.
    const cause = (await piped.then(() => err, (e: unknown) => e)) as Error;
    const reason = [cause, err].find((e) => e instanceof LayerError);
    if (reason) throw reason;
    throw new LayerError(`the layer is not a readable ${gzipped ? "tar.gz" : "tar"} archive (${(err as Error).message})`);
  }
  if (plugin) return plugin.bytes;
  if (others.length > 1) {
    throw new LayerError(`the layer holds ${others.length} .wasm files (${others.join(", ")}) and no ${PLUGIN_FILE}, so which is the module is not clear; name it ${PLUGIN_FILE}`);
  }
  return other?.bytes;
}

async function readEntry(entry: AsyncIterable<unknown>): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}
