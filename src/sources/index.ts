// "Where do the bytes come from?" One file per kind of source; this picks the right one.

import { sourceOrigin, type Config, type ModuleSpec } from "../config/load.js";
import { sha256Hex } from "../core/hash.js";
import { formatReference } from "../core/oci-reference.js";
import { loadHttpModule } from "./http.js";
import { readLocalModule } from "./local.js";
import { loadOciModule } from "./oci.js";

export interface ModuleBytes {
  bytes: Uint8Array;
  sha256: string;
  /** A path, URL or oci:// reference, for messages. */
  origin: string;
  /** OCI modules: the manifest digest they came from, when known (also in `origin`). */
  digest?: string;
}

export async function loadModuleBytes(spec: ModuleSpec, config: Config): Promise<ModuleBytes> {
  const source = spec.source;
  const origin = sourceOrigin(source);
  if (source.kind === "local") {
    const bytes = await readLocalModule(source.path);
    return { bytes, sha256: sha256Hex(bytes), origin };
  }
  if (source.kind === "http") {
    const { bytes, sha256 } = await loadHttpModule(source, config);
    return { bytes, sha256, origin };
  }
  if (source.kind === "oci") {
    const loaded = await loadOciModule(source, config);
    // The reference as pinned: what `wasmforge fetch` prints is what a config can name.
    const pinned = loaded.digest ? `oci://${formatReference({ ...source.reference, digest: loaded.digest })}` : origin;
    return { ...loaded, origin: pinned };
  }
  throw new Error(`unknown module source ${JSON.stringify(source satisfies never)}`);
}
