// The parts of OCI sources that need no registry: references, WWW-Authenticate challenges, Docker
// credentials, manifest and index choices, and finding the module in raw, tar and tar.gz layers
// (archives built here with tar-stream). The pulls themselves run against a real registry in
// test/infra/oci.test.ts (`npm run test:oci`).

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { formatReference, parseReference } from "../src/core/oci-reference.js";
import { authorize, findCredentials, parseChallenges } from "../src/sources/docker-auth.js";
import { LayerError, safeEntryPath, wasmFromLayer, WASM_LAYER_TYPE } from "../src/sources/oci-layer.js";
import { candidateLayers, parseManifest, selectManifest, type Descriptor } from "../src/sources/oci-manifest.js";
import { MODULES, moduleEntry, runCli, tempDir, writeConfig } from "./helpers.js";
import { lyingTarHeader, tarOf } from "./tar.js";

const EXAMPLE = readFileSync(join(MODULES, "example.wasm"));
const TEXT = readFileSync(join(MODULES, "text.wasm"));
const MB = 1024 * 1024;

function layerFile(bytes: Uint8Array): string {
  const file = join(tempDir("wasmforge-layer-"), "layer");
  writeFileSync(file, bytes);
  return file;
}

const descriptor = (digestChar: string, extra: Partial<Descriptor> = {}): Descriptor => ({
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: `sha256:${digestChar.repeat(64)}`,
  size: 100,
  ...extra,
});

describe("OCI references", () => {
  it("parses registry, repository, tag and digest, with or without oci://", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    expect(parseReference("oci://ghcr.io/hyper-mcp-rs/time-plugin:latest")).toEqual({ registry: "ghcr.io", repository: "hyper-mcp-rs/time-plugin", tag: "latest" });
    expect(parseReference(`ghcr.io/x/y@${digest}`)).toEqual({ registry: "ghcr.io", repository: "x/y", digest });
    expect(parseReference(`localhost:5000/a/b/c:v1.2@${digest}`)).toEqual({ registry: "localhost:5000", repository: "a/b/c", tag: "v1.2", digest });
    expect(parseReference("127.0.0.1:5000/plugin")).toEqual({ registry: "127.0.0.1:5000", repository: "plugin", tag: "latest" });
    expect(parseReference("docker.io/alpine")).toMatchObject({ repository: "library/alpine" });
    expect(formatReference(parseReference(`oci://ghcr.io/x/y:t@${digest}`))).toBe(`ghcr.io/x/y:t@${digest}`);
  });

  it("refuses what is not a reference, saying why", () => {
    expect(() => parseReference("hyper-mcp-rs/time-plugin:latest")).toThrow(/must start with the registry host/);
    expect(() => parseReference("ghcr.io/Upper/Case")).toThrow(/invalid repository name "Upper\/Case"/);
    expect(() => parseReference("ghcr.io/x/y:-bad")).toThrow(/invalid tag "-bad"/);
    expect(() => parseReference(`ghcr.io/x/y@sha512:${"a".repeat(128)}`)).toThrow(/only sha256 digests are supported/);
    expect(() => parseReference("ghcr.io/x/y@sha256:abc")).toThrow(/64 lowercase hexadecimal/);
  });
});

describe("WWW-Authenticate challenges", () => {
  it("reads ghcr.io's and Docker Hub's Bearer challenges, quoted values with commas and escapes", () => {
    expect(parseChallenges('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:hyper-mcp-rs/time-plugin:pull"')).toEqual([
      { scheme: "bearer", params: { realm: "https://ghcr.io/token", service: "ghcr.io", scope: "repository:hyper-mcp-rs/time-plugin:pull" } },
    ]);
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token", service="registry.docker.io", scope="repository:a/b:pull,push"')[0]!.params.scope).toBe("repository:a/b:pull,push");
    expect(parseChallenges('Basic realm="say \\"hi\\""')).toEqual([{ scheme: "basic", params: { realm: 'say "hi"' } }]);
  });

  it("reads several challenges in one header", () => {
    expect(parseChallenges('Basic realm="r", Bearer realm="https://t/token",service=s').map((c) => [c.scheme, c.params])).toEqual([
      ["basic", { realm: "r" }],
      ["bearer", { realm: "https://t/token", service: "s" }],
    ]);
  });

  it("a Basic challenge without credentials, or a token endpoint on plain http elsewhere, is refused before anything is sent", async () => {
    const limits = { timeoutMs: 1000, maxBytes: MB, allowInsecureHttp: false };
    await expect(authorize('Basic realm="r"', "a/b", {}, limits)).rejects.toThrow("it needs credentials");
    await expect(authorize('Bearer realm="http://example.com/token"', "a/b", {}, limits)).rejects.toThrow(/token endpoint http:\/\/example\.com\/token: refusing plain http/);
  });
});

describe("Docker credentials", () => {
  function dockerConfig(json: unknown): Record<string, string> {
    const dir = tempDir("wasmforge-docker-");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "config.json"), JSON.stringify(json));
    return { DOCKER_CONFIG: dir };
  }

  it("finds auths by registry host, whichever way docker login wrote the key", () => {
    const auth = Buffer.from("ada:s3cret:with:colons").toString("base64");
    const env = dockerConfig({ auths: { "https://ghcr.io": { auth }, "localhost:5000": { username: "bob", password: "pw" }, "https://index.docker.io/v1/": { auth } } });
    expect(findCredentials("ghcr.io", env).credentials).toMatchObject({ username: "ada", password: "s3cret:with:colons" });
    expect(findCredentials("localhost:5000", env).credentials).toMatchObject({ username: "bob", password: "pw" });
    expect(findCredentials("docker.io", env).credentials).toMatchObject({ username: "ada" });
    expect(findCredentials("quay.io", env).credentials).toBeUndefined();
  });

  it("names a credential helper it does not run, and tolerates a missing config", () => {
    expect(findCredentials("ghcr.io", dockerConfig({ credsStore: "desktop", auths: {} }))).toMatchObject({ helper: "desktop" });
    expect(findCredentials("ghcr.io", dockerConfig({ credHelpers: { "ghcr.io": "gh" } })).helper).toBe("gh");
    expect(findCredentials("ghcr.io", { DOCKER_CONFIG: join(tempDir(), "nothing-here") })).toEqual({});
  });
});

describe("manifests and image indexes", () => {
  it("tells an index from a manifest and validates both", () => {
    const index = { schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [descriptor("1", { platform: { os: "linux", architecture: "amd64" } })] };
    expect(parseManifest(Buffer.from(JSON.stringify(index)))).toMatchObject({ kind: "index", manifests: [{ digest: `sha256:${"1".repeat(64)}` }] });
    const manifest = { schemaVersion: 2, config: descriptor("2"), layers: [descriptor("3", { mediaType: WASM_LAYER_TYPE })] };
    expect(parseManifest(Buffer.from(JSON.stringify(manifest)), "application/vnd.oci.image.manifest.v1+json")).toMatchObject({ kind: "manifest", layers: [{ mediaType: WASM_LAYER_TYPE }] });
    expect(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, layers: [{ digest: "md5:x", size: 1 }] })))).toThrow(/layers\.0\.digest: expected a sha256: digest/);
    expect(() => parseManifest(Buffer.from("<html>"))).toThrow("the manifest is not JSON");
    expect(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 1, mediaType: "application/vnd.docker.distribution.manifest.v1+prettyjws" })))).toThrow(/schema 1/);
  });

  it("picks the wasm platform, else the only image beside attestations, else linux/amd64, else says which to pin", () => {
    const amd64 = descriptor("a", { platform: { os: "linux", architecture: "amd64" } });
    const arm64 = descriptor("b", { platform: { os: "linux", architecture: "arm64" } });
    const wasm = descriptor("c", { platform: { os: "wasip1", architecture: "wasm" } });
    const attestation = descriptor("d", { platform: { os: "unknown", architecture: "unknown" }, annotations: { "vnd.docker.reference.type": "attestation-manifest" } });
    expect(selectManifest([amd64, arm64, wasm])).toBe(wasm);
    expect(selectManifest([arm64, attestation])).toBe(arm64);
    expect(selectManifest([arm64, amd64])).toBe(amd64);
    const riscv = descriptor("e", { platform: { os: "linux", architecture: "riscv64" } });
    expect(() => selectManifest([arm64, riscv])).toThrow(/no wasm platform .* 2 images: linux\/arm64 \(sha256:b+\), linux\/riscv64 .*pin the one that holds the module by its digest/);
  });

  it("looks into wasm-typed layers, else every layer from the top", () => {
    const base = descriptor("1", { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" });
    const top = descriptor("2", { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" });
    const wasm = descriptor("3", { mediaType: WASM_LAYER_TYPE });
    expect(candidateLayers([base, top])).toEqual([top, base]);
    expect(candidateLayers([base, wasm])).toEqual([wasm]);
  });
});

describe("finding the module in a layer", () => {
  it("a raw wasm blob is the module; a blob typed as wasm that is not WebAssembly is an error", async () => {
    expect(await wasmFromLayer(layerFile(EXAMPLE), WASM_LAYER_TYPE, MB)).toEqual(new Uint8Array(EXAMPLE));
    expect(await wasmFromLayer(layerFile(EXAMPLE), "application/octet-stream", MB)).toEqual(new Uint8Array(EXAMPLE));
    await expect(wasmFromLayer(layerFile(Buffer.from("{}")), WASM_LAYER_TYPE, MB)).rejects.toThrow(/does not start with \\0asm/);
  });

  it("a tar.gz holding plugin.wasm, as hyper-mcp's images are built, and a plain tar", async () => {
    const tgz = gzipSync(await tarOf([["README.md", "hello"], ["plugin.wasm", EXAMPLE]]));
    expect(await wasmFromLayer(layerFile(tgz), "application/vnd.oci.image.layer.v1.tar+gzip", MB)).toEqual(new Uint8Array(EXAMPLE));
    const tar = await tarOf([["./opt/app/module.wasm", TEXT]]);
    expect(await wasmFromLayer(layerFile(tar), "application/vnd.oci.image.layer.v1.tar", MB)).toEqual(new Uint8Array(TEXT));
  });

  it("plugin.wasm wins over other .wasm files, the shallowest first; several without plugin.wasm is an error", async () => {
    const tgz = gzipSync(await tarOf([["a/b/plugin.wasm", TEXT], ["other.wasm", TEXT], ["plugin.wasm", EXAMPLE]]));
    expect(await wasmFromLayer(layerFile(tgz), "", MB)).toEqual(new Uint8Array(EXAMPLE));
    const two = gzipSync(await tarOf([["one.wasm", EXAMPLE], ["two.wasm", TEXT]]));
    await expect(wasmFromLayer(layerFile(two), "", MB)).rejects.toThrow("the layer holds 2 .wasm files (one.wasm, two.wasm) and no plugin.wasm");
  });

  it("ignores names that climb out or are absolute, links, and .wasm names that are not WebAssembly", async () => {
    expect(safeEntryPath("../plugin.wasm")).toBeUndefined();
    expect(safeEntryPath("/plugin.wasm")).toBeUndefined();
    expect(safeEntryPath("a/../../plugin.wasm")).toBeUndefined();
    expect(safeEntryPath("./a//b/plugin.wasm")).toBe("a/b/plugin.wasm");
    const tgz = gzipSync(await tarOf([["../plugin.wasm", EXAMPLE], ["/plugin.wasm", EXAMPLE], ["link.wasm", "/etc/passwd", "symlink"], ["fake.wasm", "not wasm"]]));
    expect(await wasmFromLayer(layerFile(tgz), "", MB)).toBeUndefined();
  });

  it("a tar entry claiming gigabytes is refused from its header, before it is read", async () => {
    const bomb = gzipSync(lyingTarHeader("plugin.wasm", 8 * 1024 * MB - 1));
    const error = await wasmFromLayer(layerFile(bomb), "", MB).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LayerError);
    expect((error as Error).message).toBe('tar entry "plugin.wasm" claims 8 GiB, over the 1 MiB limit ([server] max_download_mb); it was not read');
  });

  it("a layer that unpacks to more than twice the limit (a gzip bomb) stops early", async () => {
    // Each entry is within the 2 MiB limit; together they unpack to 7.5 MiB.
    const zeros = Buffer.alloc(1.5 * MB);
    const tgz = gzipSync(await tarOf(["a", "b", "c", "d", "e"].map((n): [string, Buffer] => [`${n}.bin`, zeros])));
    expect(tgz.length).toBeLessThan(100 * 1024);
    await expect(wasmFromLayer(layerFile(tgz), "", 2 * MB)).rejects.toThrow(/unpacks to more than 4 MiB/);
  });

  it("a layer with no module is reported as none; a corrupt archive says so", async () => {
    expect(await wasmFromLayer(layerFile(Buffer.from('{"architecture":"amd64"}')), "application/vnd.oci.image.config.v1+json", MB)).toBeUndefined();
    await expect(wasmFromLayer(layerFile(Buffer.from([0x1f, 0x8b, 1, 2, 3])), "", MB)).rejects.toThrow(/not a readable tar\.gz archive/);
  });
});

describe("oci:// in the config", () => {
  it("a malformed reference is a config error naming the key and the expected form", async () => {
    const file = writeConfig('[[modules]]\nname = "p"\nurl = "oci://time-plugin:latest"\n\n[[modules]]\nname = "q"\n[modules.source]\ntype = "oci"\nreference = "ghcr.io/x/Y"\n');
    const run = await runCli(["tools", "--config", file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('modules[0].url: "oci://time-plugin:latest" is not an OCI reference: it must start with the registry host');
    expect(run.stderr).toContain('modules[1].source.reference: "ghcr.io/x/Y" is not an OCI reference: invalid repository name');
  });

  it("a registry that is not there fails its module only; the others serve", async () => {
    // Port 9 (discard) on this machine: nothing listens, so the connection is refused at once.
    const dir = tempDir();
    const file = writeConfig(
      `[cache]\ndirectory = ${JSON.stringify(join(dir, "cache"))}\n\n[[modules]]\nname = "gone"\nurl = "oci://127.0.0.1:9/x/y@sha256:${"0".repeat(64)}"\n\n` + moduleEntry("math", "example.wasm"),
      dir,
    );
    const run = await runCli(["tools", "--config", file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("add");
    expect(run.stderr + run.stdout).toMatch(/module "gone" \(oci:\/\/127\.0\.0\.1:9\/x\/y@sha256:0+\): .*connection refused/);
  });
});
