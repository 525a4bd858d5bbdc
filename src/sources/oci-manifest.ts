// What a registry's JSON says: image indexes and manifests (OCI and Docker v2), validated with zod
// because they are foreign input, and the choices made from them: which manifest of an index,
// which layers may hold the module.

import { z } from "zod";
import { WASM_LAYER_TYPE } from "./oci-layer.js";

export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";

/** The `Accept` header of a manifest request: every kind WasmForge reads. */
export const MANIFEST_ACCEPT = [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST].join(", ");

/** Registries must accept manifests of 4 MB; nothing WasmForge needs is larger. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export class ManifestError extends Error {}

const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, "expected a sha256: digest (the only algorithm WasmForge checks)");

const descriptor = z.looseObject({
  mediaType: z.string().default(""),
  digest,
  size: z.number().int().nonnegative(),
  platform: z.looseObject({ os: z.string(), architecture: z.string(), variant: z.string().optional() }).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type Descriptor = z.infer<typeof descriptor>;

const indexSchema = z.looseObject({ schemaVersion: z.literal(2), mediaType: z.string().optional(), manifests: z.array(descriptor) });
const manifestSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: descriptor.optional(),
  layers: z.array(descriptor),
});

export type Manifest = { kind: "index"; manifests: Descriptor[] } | { kind: "manifest"; layers: Descriptor[] };

/** Reads a manifest body; the kind comes from its `mediaType`, else the response's type, else its shape. */
export function parseManifest(body: Uint8Array, contentType?: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    throw new ManifestError("the manifest is not JSON");
  }
  const declared = (json as { mediaType?: unknown } | null)?.mediaType;
  const type = typeof declared === "string" ? declared : (contentType ?? "").split(";")[0]!.trim();
  if (type.startsWith("application/vnd.docker.distribution.manifest.v1")) {
    throw new ManifestError("the registry served a Docker schema 1 manifest, which WasmForge does not read; push the image again with a current tool");
  }
  const isIndex = type === OCI_INDEX || type === DOCKER_LIST || (!type.includes("manifest") && Array.isArray((json as { manifests?: unknown }).manifests));
  const what = isIndex ? "image index" : "manifest";
  const invalid = (issues: z.core.$ZodIssue[]) =>
    new ManifestError(`the ${what} is not valid: ${issues[0]!.path.join(".") || "(top level)"}: ${issues[0]!.message}`);
  if (isIndex) {
    const parsed = indexSchema.safeParse(json);
    if (!parsed.success) throw invalid(parsed.error.issues);
    return { kind: "index", manifests: parsed.data.manifests };
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) throw invalid(parsed.error.issues);
  return { kind: "manifest", layers: parsed.data.layers };
}

const platformName = (d: Descriptor) =>
  d.platform ? `${d.platform.os}/${d.platform.architecture}${d.platform.variant ? `/${d.platform.variant}` : ""}` : "no platform";

/** BuildKit adds provenance and SBOM manifests to an index; they hold no module. */
function isAttestation(d: Descriptor): boolean {
  return d.annotations?.["vnd.docker.reference.type"] === "attestation-manifest" || (d.platform?.os === "unknown" && d.platform.architecture === "unknown");
}

const WASM_OSES = ["wasip1", "wasi"];

/**
 * The manifest of an index that holds the module: the wasm platform (`wasip1/wasm`, `wasi/wasm`),
 * else the only image, else `linux/amd64` (hyper-mcp resolves indexes that way, and its plugin
 * images carry the same module for every platform).
 */
export function selectManifest(manifests: Descriptor[]): Descriptor {
  for (const os of WASM_OSES) {
    const wasm = manifests.find((d) => d.platform?.os === os && d.platform.architecture === "wasm");
    if (wasm) return wasm;
  }
  const images = manifests.filter((d) => !isAttestation(d));
  if (images.length === 1) return images[0]!;
  const amd64 = images.find((d) => d.platform?.os === "linux" && d.platform.architecture === "amd64");
  if (amd64) return amd64;
  if (images.length === 0) throw new ManifestError("the image index lists no image manifests");
  throw new ManifestError(
    `the image index has no wasm platform (wasip1/wasm or wasi/wasm) and ${images.length} images: ` +
      `${images.map((d) => `${platformName(d)} (${d.digest})`).join(", ")}; pin the one that holds the module by its digest`,
  );
}

/** Layers to look into for the module: those typed as wasm, else every layer, topmost first (as the image's file system sees them). */
export function candidateLayers(layers: Descriptor[]): Descriptor[] {
  const wasm = layers.filter((l) => l.mediaType === WASM_LAYER_TYPE);
  return wasm.length ? wasm : [...layers].reverse();
}
