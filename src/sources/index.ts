// "Where do the bytes come from?" One file per kind of source; this picks the right one.

import type { Config, ModuleSpec } from "../config/load.js";
import { sha256Hex } from "../core/hash.js";
import { loadHttpModule } from "./http.js";
import { readLocalModule } from "./local.js";

export interface ModuleBytes {
  bytes: Uint8Array;
  sha256: string;
  /** A path or URL, for messages. */
  origin: string;
}

export async function loadModuleBytes(spec: ModuleSpec, config: Config): Promise<ModuleBytes> {
  const source = spec.source;
  if (source.kind === "local") {
    const bytes = await readLocalModule(source.path);
    return { bytes, sha256: sha256Hex(bytes), origin: source.path };
  }
  if (source.kind === "http") {
    const { bytes, sha256 } = await loadHttpModule(source, config);
    return { bytes, sha256, origin: source.url };
  }
  throw new Error(`unknown module source ${JSON.stringify(source satisfies never)}`);
}
