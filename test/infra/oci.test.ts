// OCI sources against a real registry (`npm run test:oci`; needs Debian's docker-registry and
// openssl): images pushed through the registry's HTTP API in the layouts plugins are published in,
// pulled by the built CLI with no auth, Basic (htpasswd) auth and bearer tokens, and the failures a
// user can meet. Every case has its own cache directory and an empty DOCKER_CONFIG unless it says
// otherwise.

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODULES, moduleEntry, runCli, tempDir, textOf, withServer, writeConfig } from "../helpers.js";
import { lyingTarHeader, tarOf } from "../tar.js";
import {
  htpasswdFile,
  OCI_MANIFEST,
  pushBlob,
  pushImage,
  pushIndex,
  pushManifest,
  pushWasmArtifact,
  sha256,
  startRegistry,
  startStallServer,
  startTokenServer,
  type Pushed,
  type Registry,
  type TokenServer,
} from "./registry.js";

const EXAMPLE = readFileSync(join(MODULES, "example.wasm"));
const SERVLET = readFileSync(join(MODULES, "servlet-plugin.wasm"));
const TEXT = readFileSync(join(MODULES, "text.wasm"));

/** A hyper-mcp plugin image: an index with a linux/amd64 image whose tar.gz layer holds plugin.wasm, and BuildKit's attestation beside it. */
async function pushHyperPlugin(registry: Registry, repository: string, tag: string, wasm: Uint8Array): Promise<Pushed> {
  const image = await pushImage(registry, repository, `${tag}-amd64`, [gzipSync(await tarOf([["plugin.wasm", wasm]]))]);
  const statement = await pushBlob(registry, repository, Buffer.from('{"_type":"https://in-toto.io/Statement/v0.1"}'), "application/vnd.in-toto+json");
  const config = await pushBlob(registry, repository, Buffer.from("{}"), "application/vnd.oci.image.config.v1+json");
  const attestation = await pushManifest(registry, repository, `${tag}-att`, { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [statement] } as { mediaType: string });
  return pushIndex(registry, repository, tag, [
    { ...image, platform: { os: "linux", architecture: "amd64" } },
    { ...attestation, platform: { os: "unknown", architecture: "unknown" }, annotations: { "vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": image.digest } },
  ]);
}

let storage: string;
let open: Registry;
let basic: Registry;
let token: Registry;
let tokens: TokenServer;
const user = htpasswdFile();
const pushed: Record<string, Pushed> = {};

beforeAll(async () => {
  storage = tempDir("wasmforge-registry-storage-");
  open = await startRegistry(storage);
  pushed.raw = await pushWasmArtifact(open, "wasm/example", "raw", EXAMPLE);
  pushed.time = await pushHyperPlugin(open, "hyper/time-plugin", "latest", SERVLET);
  const text = gzipSync(await tarOf([["plugin.wasm", TEXT]]));
  const amd64 = await pushImage(open, "multi/plugin", "amd64", [text]);
  const arm64 = await pushImage(open, "multi/plugin", "arm64", [text]);
  const wasm = await pushWasmArtifact(open, "multi/plugin", "wasm", EXAMPLE);
  pushed.multi = await pushIndex(open, "multi/plugin", "v1", [
    { ...amd64, platform: { os: "linux", architecture: "amd64" } },
    { ...arm64, platform: { os: "linux", architecture: "arm64" } },
    { ...wasm, platform: { os: "wasip1", architecture: "wasm" } },
  ]);
  pushed.bomb = await pushImage(open, "bomb/layer", "v1", [gzipSync(lyingTarHeader("plugin.wasm", 8 * 1024 ** 3 - 1))]);
  pushed.private = await pushWasmArtifact(open, "private/example", "raw", EXAMPLE);
  // The same storage, behind each kind of auth.
  basic = await startRegistry(storage, { kind: "htpasswd", file: user.file });
  tokens = await startTokenServer(user.username, user.password);
  token = await startRegistry(storage, { kind: "token", realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, certFile: tokens.certFile });
}, 60_000);

afterAll(async () => {
  await Promise.all([open?.stop(), basic?.stop(), token?.stop(), tokens?.close()]);
});

/** A config with its own cache; `server` holds [server] keys. */
function ociConfig(body: string, server = ""): { file: string; cache: string } {
  const dir = tempDir("wasmforge-oci-");
  const cache = join(dir, "cache");
  return { file: writeConfig(`[server]\n${server}\n[cache]\ndirectory = ${JSON.stringify(cache)}\n\n${body}`, dir), cache };
}

const ociEntry = (name: string, reference: string, extra = "") => `[[modules]]\nname = "${name}"\nurl = "oci://${reference}"\n${extra}\n`;

/** An empty Docker config, or one with these `auths`. */
function dockerEnv(auths: Record<string, { auth: string }> = {}): Record<string, string> {
  const dir = tempDir("wasmforge-docker-");
  writeFileSync(join(dir, "config.json"), JSON.stringify({ auths }));
  return { DOCKER_CONFIG: dir };
}

const loginFor = (registry: Registry, password = user.password) =>
  dockerEnv({ [registry.host]: { auth: Buffer.from(`${user.username}:${password}`).toString("base64") } });

const fetchWith = (file: string, env = dockerEnv(), timeoutMs = 20_000) => runCli(["fetch", "--config", file], { env, timeoutMs });

const cached = (cache: string) => (existsSync(join(cache, "modules")) ? readdirSync(join(cache, "modules")).filter((f) => f.endsWith(".wasm")) : []);

describe.concurrent("OCI sources against a real registry", () => {
  it("hyper-mcp-style plugins pinned by digest start and serve their tools, and start again offline once the registry is gone", async ({ expect }) => {
    const own = await startRegistry(tempDir("wasmforge-registry-own-"));
    const time = await pushHyperPlugin(own, "hyper/time-plugin", "latest", SERVLET);
    const raw = await pushWasmArtifact(own, "wasm/example", "raw", EXAMPLE);
    const { file, cache } = ociConfig(
      ociEntry("time", `${own.host}/hyper/time-plugin:latest@${time.digest}`) + ociEntry("math", `${own.host}/wasm/example@${raw.digest}`),
    );
    const env = dockerEnv();
    await withServer(["serve", "--config", file, "--no-watch"], async (first) => {
      const names = (await first.client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(["reverse", "pixel", "add"]));
      expect(textOf(await first.client.callTool({ name: "reverse", arguments: { text: "stressed" } }))).toBe("desserts");
      expect(textOf(await first.client.callTool({ name: "add", arguments: { a: 2, b: 3 } }))).toBe("5");
    }, { env });
    expect(cached(cache).sort()).toEqual([`${sha256(SERVLET)}.wasm`, `${sha256(EXAMPLE)}.wasm`].sort());
    expect(readdirSync(join(cache, "oci")).sort()).toEqual([`${time.digest.slice(7)}.json`, `${raw.digest.slice(7)}.json`].sort());

    await own.stop();
    await withServer(["serve", "--config", file, "--no-watch"], async (second) => {
      expect(textOf(await second.client.callTool({ name: "reverse", arguments: { text: "drawer" } }))).toBe("reward");
      expect(textOf(await second.client.callTool({ name: "add", arguments: { a: 40, b: 2 } }))).toBe("42");
      expect(second.stderr()).not.toContain("downloading");
    }, { env });
  });

  it("a tag pinned by the module's sha256 loads; fetch prints the reference pinned to its digest, cache list the reference and digest, cache clear removes both", async ({ expect }) => {
    const { file, cache } = ociConfig(ociEntry("math", `${open.host}/wasm/example:raw`, `sha256 = "${sha256(EXAMPLE)}"`));
    const run = await fetchWith(file);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`math  ${sha256(EXAMPLE)}      864 B  oci://${open.host}/wasm/example:raw@${pushed.raw!.digest}\n`);
    const listed = await runCli(["cache", "list", "--config", file]);
    expect(listed.stdout).toContain(`${sha256(EXAMPLE)}  `);
    expect(listed.stdout).toContain(`oci://${open.host}/wasm/example:raw@${pushed.raw!.digest}  (module math)`);
    expect(readdirSync(join(cache, "oci"))).toEqual([`${pushed.raw!.digest.slice(7)}.json`]);
    const cleared = await runCli(["cache", "clear", "--config", file]);
    expect(cleared.stdout).toContain("removed 1 cached module");
    expect(existsSync(join(cache, "oci"))).toBe(false);
  });

  it("an unpinned tag is refused with the exact line to add, in the form the config used; allow_unpinned loads it with a warning", async ({ expect }) => {
    const url = ociConfig(ociEntry("time", `${open.host}/hyper/time-plugin:latest`));
    const refused = await fetchWith(url.file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`oci://${open.host}/hyper/time-plugin:latest is not pinned, so it was not loaded. The tag now points at manifest ${pushed.time!.digest}`);
    expect(refused.stderr).toContain(`url = "oci://${open.host}/hyper/time-plugin:latest@${pushed.time!.digest}"`);
    expect(cached(url.cache)).toEqual([]);

    const table = ociConfig(`[[modules]]\nname = "time"\n[modules.source]\ntype = "oci"\nreference = "${open.host}/hyper/time-plugin:latest"\n`);
    expect((await fetchWith(table.file)).stderr).toContain(`reference = "${open.host}/hyper/time-plugin:latest@${pushed.time!.digest}"`);

    const allowed = ociConfig(ociEntry("time", `${open.host}/hyper/time-plugin:latest`), "allow_unpinned = true");
    const ok = await fetchWith(allowed.file);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain(`is not pinned (allowed by [server] allow_unpinned); pin it with  url = "oci://${open.host}/hyper/time-plugin:latest@${pushed.time!.digest}"`);
  });

  it("a wrong digest and a wrong sha256 are refused, saying which; nothing is cached", async ({ expect }) => {
    const wrong = `sha256:${"0".repeat(64)}`;
    const { file, cache } = ociConfig(
      ociEntry("digest", `${open.host}/wasm/example@${wrong}`) + ociEntry("pin", `${open.host}/wasm/example:raw`, `sha256 = "${"1".repeat(64)}"`),
    );
    const run = await fetchWith(file);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`module "digest" (oci://${open.host}/wasm/example@${wrong}): ${open.host} has no manifest ${wrong} in wasm/example (404 Not Found); check the reference`);
    expect(run.stderr).toContain(`SHA-256 mismatch for oci://${open.host}/wasm/example:raw: expected ${"1".repeat(64)}, got ${sha256(EXAMPLE)} (manifest ${pushed.raw!.digest})`);
    expect(cached(cache)).toEqual([]);
  });

  it("a missing tag or repository is a 404 that names it", async ({ expect }) => {
    const { file } = ociConfig(ociEntry("tag", `${open.host}/wasm/example:nope`, `sha256 = "${sha256(EXAMPLE)}"`) + ociEntry("repo", `${open.host}/no/such:v1`, `sha256 = "${sha256(EXAMPLE)}"`));
    const run = await fetchWith(file);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${open.host} has no tag "nope" in wasm/example (404 Not Found)`);
    expect(run.stderr).toContain(`${open.host} has no tag "v1" in no/such (404 Not Found)`);
  });

  it("an image index with several platforms serves its wasip1/wasm module", async ({ expect }) => {
    const { file } = ociConfig(ociEntry("multi", `${open.host}/multi/plugin:v1@${pushed.multi!.digest}`));
    const run = await runCli(["call", "add", '{"a": 20, "b": 22}', "--config", file], { env: dockerEnv() });
    expect(run.stdout.trim(), run.stderr).toBe("42");
  });

  it("Basic auth: without credentials a 401 says how to log in; credentials in DOCKER_CONFIG pull; a wrong password is refused and never printed", async ({ expect }) => {
    const { file } = ociConfig(ociEntry("math", `${basic.host}/wasm/example@${pushed.raw!.digest}`));
    const none = await fetchWith(file);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`module "math" (oci://${basic.host}/wasm/example@${pushed.raw!.digest}): ${basic.host} answered 401 Unauthorized for wasm/example: it needs credentials; run \`docker login ${basic.host}\`, or add "${basic.host}" to "auths" in `);

    const wrong = await fetchWith(file, loginFor(basic, "not-the-password"));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`${basic.host} refused the credentials for testuser from`);
    expect(wrong.stderr).not.toContain("not-the-password");
    expect(wrong.stderr).not.toContain(Buffer.from("testuser:not-the-password").toString("base64"));

    const ok = await fetchWith(file, loginFor(basic));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(sha256(EXAMPLE));
    expect(ok.stderr).not.toContain(user.password);
  });

  it("bearer tokens: the WWW-Authenticate challenge leads to the token endpoint, anonymously for a public repository and with DOCKER_CONFIG credentials for a private one", async ({ expect }) => {
    const open_ = ociConfig(ociEntry("public", `${token.host}/wasm/example@${pushed.raw!.digest}`));
    const anonymous = await fetchWith(open_.file);
    expect(anonymous.code, anonymous.stderr).toBe(0);
    expect(tokens.requests).toContainEqual({ service: tokens.service, scope: "repository:wasm/example:pull", basic: null });

    const { file } = ociConfig(ociEntry("private", `${token.host}/private/example@${pushed.private!.digest}`));
    const refused = await fetchWith(file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${token.host} answered 401 Unauthorized for private/example: the token endpoint ${tokens.realm} refused an anonymous token (401); the repository needs credentials; run \`docker login ${token.host}\``);

    const ok = await fetchWith(file, loginFor(token));
    expect(ok.code, ok.stderr).toBe(0);
    expect(tokens.requests).toContainEqual({ service: tokens.service, scope: "repository:private/example:pull", basic: `${user.username}:${user.password}` });
  });

  it("a layer bomb (a tar entry claiming 8 GiB) is refused from its header, and the other modules still serve", async ({ expect }) => {
    const { file, cache } = ociConfig(ociEntry("bomb", `${open.host}/bomb/layer:v1@${pushed.bomb!.digest}`) + moduleEntry("text", "text.wasm"));
    await withServer(["serve", "--config", file, "--no-watch"], async (c) => {
      expect((await c.client.listTools()).tools.map((t) => t.name)).toContain("count_words");
      await expect.poll(() => c.stderr()).toContain('module "bomb"');
      expect(c.stderr()).toMatch(/module "bomb" .*: layer sha256:[0-9a-f]{64}: tar entry "plugin\.wasm" claims 8 GiB, over the 64 MiB limit \(\[server\] max_download_mb\); it was not read/);
    }, { env: dockerEnv() });
    expect(cached(cache)).toEqual([]);
  });

  it("a registry that accepts connections and never answers fails within download_timeout_ms", async ({ expect }) => {
    const stall = await startStallServer();
    try {
      const { file } = ociConfig(ociEntry("stuck", `${stall.host}/wasm/example@${pushed.raw!.digest}`), "download_timeout_ms = 300");
      const run = await fetchWith(file, dockerEnv(), 15_000);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/module "stuck" .*: http:\/\/127\.0\.0\.1:\d+\/v2\/wasm\/example\/manifests\/sha256:[0-9a-f]+: (download did not finish within 300 ms|the server stopped answering); .*download_timeout_ms \(gave up after 3 attempts\)/);
    } finally {
      await stall.close();
    }
  });

  it("a converted hyper-mcp config serves the tool names hyper-mcp gave: <plugin>-<tool>, skip_tools hidden", async ({ expect }) => {
    const dir = tempDir("wasmforge-hyper-");
    mkdirSync(join(dir, "cache"));
    const hyper = {
      plugins: {
        time: { url: `oci://${open.host}/hyper/time-plugin:latest@${pushed.time!.digest}`, runtime_config: { skip_tools: ["pix.*"] } },
        math: { url: `oci://${open.host}/wasm/example@${pushed.raw!.digest}` },
      },
    };
    writeFileSync(join(dir, "config.json"), JSON.stringify(hyper));
    const converted = await runCli(["import", "config.json"], { cwd: dir });
    expect(converted.code, converted.stderr).toBe(0);
    writeFileSync(join(dir, "wasmforge.toml"), `[cache]\ndirectory = "cache"\n\n${converted.stdout}`);
    await withServer(["serve", "--config", join(dir, "wasmforge.toml"), "--no-watch"], async (c) => {
      const names = (await c.client.listTools()).tools.map((t) => t.name).sort();
      expect(names).toEqual(["math-add", "math-answer", "math-fib", "math-process_response", "math-scale", "math-validate_url", "time-reverse"]);
      expect(textOf(await c.client.callTool({ name: "time-reverse", arguments: { text: "live" } }))).toBe("evil");
    }, { env: dockerEnv() });
  });
});
