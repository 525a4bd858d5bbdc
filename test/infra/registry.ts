// A real OCI registry for tests: Debian's `docker-registry` (the CNCF distribution registry 2.8) on
// 127.0.0.1 with a temporary storage directory, without auth, with htpasswd (Basic) auth, or with
// token auth against a token server run here that signs JWTs the registry trusts (ES256, its
// certificate in the JWT's x5c header and in the registry's rootcertbundle). Images are pushed
// through the registry's own HTTP API.

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash, createPrivateKey, randomUUID, sign, X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import { join } from "node:path";
import { tempDir } from "../helpers.js";

export const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

export type RegistryAuth = { kind: "none" } | { kind: "htpasswd"; file: string } | { kind: "token"; realm: string; service: string; issuer: string; certFile: string };

export interface Registry {
  /** `127.0.0.1:PORT`, as references name it. */
  host: string;
  url: string;
  stop: () => Promise<void>;
}

/** Starts `docker-registry serve` on a free port (the registry accepts port 0 and logs the one it got). */
export async function startRegistry(storage: string, auth: RegistryAuth = { kind: "none" }): Promise<Registry> {
  const dir = tempDir("wasmforge-registry-");
  const authYaml =
    auth.kind === "htpasswd"
      ? `auth:\n  htpasswd:\n    realm: wasmforge-test\n    path: ${auth.file}\n`
      : auth.kind === "token"
        ? `auth:\n  token:\n    realm: ${auth.realm}\n    service: ${auth.service}\n    issuer: ${auth.issuer}\n    rootcertbundle: ${auth.certFile}\n`
        : "";
  const config = join(dir, "config.yml");
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: info\n  formatter: text\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: 127.0.0.1:0\n  secret: wasmforge-test\n${authYaml}`,
  );
  const child: ChildProcess = spawn("docker-registry", ["serve", config], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const host = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`docker-registry did not start listening:\n${output}`)), 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("error", (err) => reject(new Error(`cannot run docker-registry (apt-get install -y docker-registry): ${err.message}`)));
    void exited.then(() => reject(new Error(`docker-registry exited:\n${output}`)));
  });
  return {
    host,
    url: `http://${host}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** An htpasswd file for one user. The registry reads only bcrypt; this hash is of "testpass" (cost 5). */
export function htpasswdFile(): { file: string; username: string; password: string } {
  const file = join(tempDir("wasmforge-htpasswd-"), "htpasswd");
  writeFileSync(file, "testuser:$2b$05$abcdefghijklmnopqrstuuY2rr7L.d/LF6rPH7pelavN71FckQOVO\n");
  return { file, username: "testuser", password: "testpass" };
}

// ---------------------------------------------------------------- pushing

export interface Pushed {
  mediaType: string;
  digest: string;
  size: number;
}

export async function pushBlob(registry: Registry, repository: string, bytes: Uint8Array, mediaType: string): Promise<Pushed> {
  const digest = `sha256:${sha256(bytes)}`;
  const started = await fetch(`${registry.url}/v2/${repository}/blobs/uploads/`, { method: "POST" });
  if (started.status !== 202) throw new Error(`blob upload to ${repository} answered ${started.status}: ${await started.text()}`);
  const location = new URL(started.headers.get("location")!, registry.url);
  location.searchParams.set("digest", digest);
  const put = await fetch(location, { method: "PUT", body: bytes, headers: { "content-type": "application/octet-stream" } });
  if (put.status !== 201) throw new Error(`blob PUT to ${repository} answered ${put.status}: ${await put.text()}`);
  return { mediaType, digest, size: bytes.length };
}

/** PUTs a manifest (or index) under `reference` (a tag, or its digest) and returns its digest. */
export async function pushManifest(registry: Registry, repository: string, reference: string, manifest: { mediaType: string }): Promise<Pushed> {
  const body = Buffer.from(JSON.stringify(manifest));
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${reference}`, { method: "PUT", body, headers: { "content-type": manifest.mediaType } });
  if (response.status !== 201) throw new Error(`manifest PUT ${repository}:${reference} answered ${response.status}: ${await response.text()}`);
  return { mediaType: manifest.mediaType, digest: `sha256:${sha256(body)}`, size: body.length };
}

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";

/** A CNCF wasm artifact: config `application/vnd.wasm.config.v0+json`, one raw wasm layer. */
export async function pushWasmArtifact(registry: Registry, repository: string, tag: string, wasm: Uint8Array): Promise<Pushed> {
  const config = await pushBlob(registry, repository, Buffer.from(JSON.stringify({ architecture: "wasm", os: "wasip1" })), "application/vnd.wasm.config.v0+json");
  const layer = await pushBlob(registry, repository, wasm, "application/vnd.wasm.content.layer.v1+wasm");
  return pushManifest(registry, repository, tag, { schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: "application/vnd.wasm.config.v0+json", config, layers: [layer] } as { mediaType: string });
}

/** An image like `FROM scratch` + `COPY plugin.wasm /plugin.wasm`: an image config and gzip-compressed tar layers. */
export async function pushImage(registry: Registry, repository: string, reference: string, layers: Buffer[]): Promise<Pushed> {
  const pushed = [];
  for (const layer of layers) pushed.push(await pushBlob(registry, repository, layer, "application/vnd.oci.image.layer.v1.tar+gzip"));
  const imageConfig = { architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: pushed.map((l) => l.digest) }, config: {} };
  const config = await pushBlob(registry, repository, Buffer.from(JSON.stringify(imageConfig)), "application/vnd.oci.image.config.v1+json");
  return pushManifest(registry, repository, reference, { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: pushed } as { mediaType: string });
}

export async function pushIndex(registry: Registry, repository: string, tag: string, manifests: (Pushed & { platform: { os: string; architecture: string }; annotations?: Record<string, string> })[]): Promise<Pushed> {
  return pushManifest(registry, repository, tag, { schemaVersion: 2, mediaType: OCI_INDEX, manifests } as { mediaType: string });
}

// ---------------------------------------------------------------- token auth

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certFile: string;
  /** Every token request: its query and whether it carried these credentials. */
  requests: { service: string | null; scope: string | null; basic: string | null }[];
  close: () => Promise<void>;
}

/**
 * A token endpoint as distribution's token auth expects: it grants `pull` to anyone, except on
 * repositories under `private/`, which need `username`/`password` as Basic credentials.
 */
export async function startTokenServer(username: string, password: string): Promise<TokenServer> {
  const dir = tempDir("wasmforge-token-");
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", "/CN=wasmforge-test-token",
  ], { stdio: "ignore" });
  const key = createPrivateKey(readFileSync(keyFile));
  const certDer = new X509Certificate(readFileSync(certFile)).raw.toString("base64");
  const service = "wasmforge-test-registry";
  const issuer = "wasmforge-test-issuer";
  const requests: TokenServer["requests"] = [];
  const b64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

  const server: Server = createServer((req: IncomingMessage, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const scope = url.searchParams.get("scope");
    const authorization = req.headers.authorization ?? null;
    const basic = authorization?.startsWith("Basic ") ? Buffer.from(authorization.slice(6), "base64").toString() : null;
    requests.push({ service: url.searchParams.get("service"), scope, basic });
    const [, name = "", actions = ""] = scope?.split(":") ?? [];
    if (name.startsWith("private/") && basic !== `${username}:${password}`) {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ details: "credentials required" }));
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "ES256", x5c: [certDer] };
    const claims = {
      iss: issuer, sub: basic ? username : "", aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(),
      access: name ? [{ type: "repository", name, actions: actions.split(",").filter((a) => a === "pull") }] : [],
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ token: `${input}.${b64url(signature)}`, expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// ---------------------------------------------------------------- a registry that stalls

/** A TCP server that accepts connections and never answers. */
export async function startStallServer(): Promise<{ host: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
