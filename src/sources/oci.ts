// Modules from OCI registries (ghcr.io, Docker Hub, a local registry), pulled with the distribution
// API: manifest (an image index picks the wasm platform), then layers until one holds the module.
// Every manifest and blob is hashed as it arrives and checked against its digest. The module is
// pinned by the manifest digest (`@sha256:` in the reference) or by its own `sha256`; once cached,
// a pinned module starts with no network. Requests go through ./download.ts, so retries, deadlines,
// size limits and progress are those of HTTP sources.

import { rm, writeFile } from "node:fs/promises";
import type { Config, ModuleSource } from "../config/load.js";
import { sha256Hex } from "../core/hash.js";
import { log } from "../core/log.js";
import { isLoopback } from "../core/loopback.js";
import { formatBytes } from "../core/format.js";
import { formatReference, registryApiHost, type OciReference } from "../core/oci-reference.js";
import { commit, lookupOciDigest, readCached, readRecord, recordOciDigest, tempFile } from "./cache.js";
import { AuthError, authorize, dockerConfigFile, findCredentials, type CredentialLookup } from "./docker-auth.js";
import { DownloadError, downloadToFile, fetchOnce, withRetries, type Limits, type Request } from "./download.js";
import { LayerError, wasmFromLayer } from "./oci-layer.js";
import { candidateLayers, ManifestError, MANIFEST_ACCEPT, MAX_MANIFEST_BYTES, parseManifest, selectManifest, type Descriptor, type Manifest } from "./oci-manifest.js";

export type OciSource = Extract<ModuleSource, { kind: "oci" }>;

export interface OciModule {
  bytes: Uint8Array;
  sha256: string;
  /** The manifest (or index) digest the module came from, when known. */
  digest?: string;
}

/** Concurrent loads of the same reference and pin share one pull. */
const inflight = new Map<string, Promise<OciModule>>();

export function loadOciModule(source: OciSource, config: Config): Promise<OciModule> {
  const key = `${config.cache.directory}\n${formatReference(source.reference)}\n${source.sha256 ?? ""}`;
  let pending = inflight.get(key);
  if (!pending) {
    pending = load(source, config).finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  return pending;
}

async function load(source: OciSource, config: Config): Promise<OciModule> {
  const ref = source.reference;
  const origin = `oci://${formatReference(ref)}`;
  const dir = config.cache.directory;
  const maxBytes = config.server.max_download_mb * 1024 * 1024;
  const cached = await fromCache(source, dir, maxBytes);
  if (cached) {
    log.debug(`${origin}: verified copy in the cache (${cached.sha256.slice(0, 12)}), no download`);
    return cached;
  }

  const session = openSession(ref, { timeoutMs: config.server.download_timeout_ms, maxBytes, allowInsecureHttp: config.server.allow_insecure_http });
  const top = await getManifest(session, ref.digest ?? ref.tag ?? "latest", ref.digest);
  const pinned = formatReference({ ...ref, digest: top.digest });
  const pinLine = source.key === "url" ? `url = "oci://${pinned}"` : `reference = "${pinned}"`;
  if (!ref.digest && !source.sha256) {
    if (!config.server.allow_unpinned) {
      throw new Error(
        `${origin} is not pinned, so it was not loaded. The tag now points at manifest ${top.digest}; ` +
          `if you trust it, pin it in ${config.file}:  ${pinLine}  (or set [server] allow_unpinned = true while developing)`,
      );
    }
    log.warn(`${origin} is not pinned (allowed by [server] allow_unpinned); pin it with  ${pinLine}`);
  }

  const bytes = await pullModule(session, top.manifest, dir, maxBytes);
  const sha256 = sha256Hex(bytes);
  if (source.sha256 && sha256 !== source.sha256) {
    throw new Error(
      `SHA-256 mismatch for ${origin}: expected ${source.sha256}, got ${sha256} (manifest ${top.digest}); nothing was loaded. ` +
        `If the image was updated on purpose and you trust it, set sha256 = "${sha256}"; otherwise check the reference`,
    );
  }

  const tmp = await tempFile(dir);
  try {
    await writeFile(tmp, bytes);
    if (await commit(dir, tmp, sha256, { url: origin, reference: pinned, digest: top.digest }, config.cache.maxSizeMb)) {
      await recordOciDigest(dir, top.digest, sha256, pinned);
    }
  } finally {
    await rm(tmp, { force: true });
  }
  return { bytes, sha256, digest: top.digest };
}

/** A pinned module already in the cache: by its own SHA-256, or by the module its manifest digest resolved to before. */
async function fromCache(source: OciSource, dir: string, maxBytes: number): Promise<OciModule | undefined> {
  const { digest } = source.reference;
  const sha256 = source.sha256 ?? (digest ? await lookupOciDigest(dir, digest) : undefined);
  if (!sha256) return undefined;
  const bytes = await readCached(dir, sha256, maxBytes);
  if (!bytes) return undefined;
  return { bytes, sha256, digest: digest ?? (await readRecord(dir, sha256))?.digest };
}

// ---------------------------------------------------------------- talking to the registry

interface Session {
  ref: OciReference;
  origin: string;
  base: URL;
  limits: Limits;
  /** Set once a 401 has been answered; sent with every later request of the pull. */
  authorization?: string;
  /** Read on the first 401 only. */
  credentials?: CredentialLookup;
}

function openSession(ref: OciReference, limits: Limits): Session {
  const host = registryApiHost(ref);
  // A registry on this machine speaks plain http, as `docker` allows for localhost.
  const scheme = isLoopback(new URL(`http://${host}`).hostname) ? "http" : "https";
  return { ref, origin: `oci://${formatReference(ref)}`, base: new URL(`${scheme}://${host}`), limits };
}

/**
 * Runs one registry request; a 401 is answered once per pull (Basic, or a bearer token from the
 * challenge's realm) and the request sent again. `missing` says what a 404 means here.
 */
async function send<T>(session: Session, path: string, missing: string, run: (request: Request) => Promise<T>, extra: Partial<Request> = {}): Promise<T> {
  const url = new URL(path, session.base);
  for (;;) {
    try {
      return await run({ ...extra, url, authorization: session.authorization });
    } catch (err) {
      if (!(err instanceof DownloadError)) throw err;
      if (err.status === 401 && !session.credentials) {
        session.credentials = findCredentials(session.ref.registry);
        try {
          session.authorization = await authorize(err.challenge, session.ref.repository, session.credentials, session.limits);
        } catch (authErr) {
          if (authErr instanceof AuthError) {
            throw new Error(`${session.ref.registry} answered 401 Unauthorized for ${session.ref.repository}: ${authErr.message}; ${loginAdvice(session)}`);
          }
          throw authErr;
        }
        continue;
      }
      throw explain(err, session, missing);
    }
  }
}

function explain(err: DownloadError, session: Session, missing: string): Error {
  const { registry, repository } = session.ref;
  const who = session.credentials?.credentials ? `the credentials for ${session.credentials.credentials.username} from ${session.credentials.credentials.file}` : "anonymous access";
  switch (err.status) {
    case 401:
      return new Error(`${registry} refused ${who} for ${repository} (401 Unauthorized); ${loginAdvice(session)}`);
    case 403:
      return new Error(`${registry} denied ${who} to pull ${repository} (403 Forbidden); check that the account may pull it`);
    case 404:
      return new Error(`${registry} has no ${missing} (404 Not Found); check the reference`);
  }
  return err;
}

function loginAdvice(session: Session): string {
  const registry = session.ref.registry;
  const lookup = session.credentials;
  const file = lookup?.file ?? dockerConfigFile();
  const helper = lookup?.helper
    ? ` (that config hands ${registry} to the credential helper "${lookup.helper}", which WasmForge does not run: put the credentials in "auths")`
    : "";
  return `run \`docker login ${registry}\`, or add "${registry}" to "auths" in ${file} (DOCKER_CONFIG names another folder)${helper}`;
}

/** Fetches a manifest by tag or digest; its digest is computed from the bytes, and must equal `expected` when given. */
async function getManifest(session: Session, reference: string, expected?: string): Promise<{ manifest: Manifest; digest: string }> {
  const { repository } = session.ref;
  const limits = { ...session.limits, maxBytes: MAX_MANIFEST_BYTES };
  const missing = reference.startsWith("sha256:") ? `manifest ${reference} in ${repository}` : `tag "${reference}" in ${repository}`;
  const { body, headers } = await send(session, `/v2/${repository}/manifests/${reference}`, missing, (request) => withRetries(() => fetchOnce(request, limits)), {
    headers: { accept: MANIFEST_ACCEPT },
    what: `the manifest of ${session.origin}`,
  });
  const digest = `sha256:${sha256Hex(body)}`;
  if (expected && digest !== expected) {
    throw new Error(`the registry answered ${expected} with a manifest whose digest is ${digest}; nothing was loaded (it is not serving what was pinned)`);
  }
  try {
    return { manifest: parseManifest(body, headers["content-type"] as string | undefined), digest };
  } catch (err) {
    if (err instanceof ManifestError) throw new Error(`manifest ${digest}: ${err.message}`);
    throw err;
  }
}

/** From the top manifest (an index is resolved to one image) to the module bytes. */
async function pullModule(session: Session, top: Manifest, dir: string, maxBytes: number): Promise<Uint8Array> {
  let manifest = top;
  if (manifest.kind === "index") {
    let chosen: Descriptor;
    try {
      chosen = selectManifest(manifest.manifests);
    } catch (err) {
      if (err instanceof ManifestError) throw new Error(`${session.origin}: ${err.message}`);
      throw err;
    }
    log.debug(`${session.origin}: image index → ${chosen.platform ? `${chosen.platform.os}/${chosen.platform.architecture}` : "its only image"} (${chosen.digest})`);
    manifest = (await getManifest(session, chosen.digest, chosen.digest)).manifest;
    if (manifest.kind === "index") throw new Error(`${session.origin}: the image index points at another index (${chosen.digest}); WasmForge reads one level`);
  }
  for (const layer of candidateLayers(manifest.layers)) {
    if (layer.size > maxBytes) {
      throw new Error(`layer ${layer.digest} is ${formatBytes(layer.size)}, over the ${formatBytes(maxBytes)} download limit; raise [server] max_download_mb if that is expected`);
    }
    const bytes = await pullLayer(session, layer, dir, maxBytes);
    if (bytes) return bytes;
  }
  throw new Error(
    `no layer of ${session.origin} holds a WebAssembly module (WasmForge reads a wasm layer, or a tar/tar.gz layer with plugin.wasm or a single .wasm file)`,
  );
}

async function pullLayer(session: Session, layer: Descriptor, dir: string, maxBytes: number): Promise<Uint8Array | undefined> {
  const { repository } = session.ref;
  const tmp = await tempFile(dir);
  try {
    const { digest, ...named } = session.ref;
    const label = `oci://${formatReference(named)}${digest ? `@${digest.slice(0, 19)}…` : ""} (layer ${layer.digest.slice(7, 19)})`;
    const got = await send(session, `/v2/${repository}/blobs/${layer.digest}`, `blob ${layer.digest} in ${repository}`, (request) =>
      downloadToFile(request, tmp, { ...session.limits, maxBytes }, layer.size), { label, what: `layer ${layer.digest}` });
    if (`sha256:${got.sha256}` !== layer.digest) {
      throw new Error(`layer ${layer.digest} from ${session.ref.registry} does not match its digest (its bytes hash to sha256:${got.sha256}); nothing was loaded`);
    }
    return await wasmFromLayer(tmp, layer.mediaType, maxBytes);
  } catch (err) {
    if (err instanceof LayerError) throw new Error(`layer ${layer.digest}: ${err.message}`);
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
}
