// OCI image references, `REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST]`, with the grammar of
// distribution/reference. One parser for the config, the registry client and `wasmforge import`.

export interface OciReference {
  /** As written in references: `ghcr.io`, `localhost:5000`, `docker.io`. */
  registry: string;
  /** `hyper-mcp-rs/time-plugin`; on Docker Hub a one-part name gets `library/`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>`: the manifest (or image index) this reference is pinned to. */
  digest?: string;
}

export class ReferenceError extends Error {}

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const REGISTRY = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const MAX_NAME = 255;

/** Parses a reference, with or without `oci://`. A reference must name its registry. */
export function parseReference(text: string): OciReference {
  const raw = text.startsWith("oci://") ? text.slice("oci://".length) : text;
  const fail = (why: string): never => {
    throw new ReferenceError(`"${text}" is not an OCI reference: ${why} (expected REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST], e.g. ghcr.io/hyper-mcp-rs/time-plugin:latest)`);
  };
  let name = raw;
  let digest: string | undefined;
  const at = raw.indexOf("@");
  if (at >= 0) {
    name = raw.slice(0, at);
    digest = raw.slice(at + 1);
    if (!digest.startsWith("sha256:")) fail(`only sha256 digests are supported, not "${digest.split(":")[0]}"`);
    if (!DIGEST.test(digest)) fail("the digest must be sha256: followed by 64 lowercase hexadecimal characters");
  }
  let tag: string | undefined;
  const colon = name.lastIndexOf(":");
  if (colon > name.lastIndexOf("/")) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
    if (!TAG.test(tag)) fail(`invalid tag "${tag}" (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-")`);
  }
  const slash = name.indexOf("/");
  const registry = slash < 0 ? "" : name.slice(0, slash);
  // Docker's rule for telling a registry from the first part of a repository name.
  if (!registry || !(registry.includes(".") || registry.includes(":") || registry === "localhost")) {
    fail("it must start with the registry host (ghcr.io/…, docker.io/…, localhost:5000/…)");
  }
  if (!REGISTRY.test(registry)) fail(`invalid registry host "${registry}"`);
  let repository = name.slice(slash + 1);
  for (const component of repository.split("/")) {
    if (!PATH_COMPONENT.test(component)) {
      fail(`invalid repository name "${repository}" (lowercase letters and digits, separated by ".", "_", "__" or "-", parts joined by "/")`);
    }
  }
  if (registry === "docker.io" && !repository.includes("/")) repository = `library/${repository}`;
  if (`${registry}/${repository}`.length > MAX_NAME) fail(`the name is longer than ${MAX_NAME} characters`);
  return { registry, repository, ...(tag || !digest ? { tag: tag ?? "latest" } : {}), ...(digest ? { digest } : {}) };
}

/** `ghcr.io/x/y:tag@sha256:…` (no scheme); the form `parseReference` reads back. */
export function formatReference(ref: OciReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** Docker Hub's API lives on another host than its name. */
export function registryApiHost(ref: OciReference): string {
  return ref.registry === "docker.io" || ref.registry === "index.docker.io" ? "registry-1.docker.io" : ref.registry;
}
