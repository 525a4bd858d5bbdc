// Remote modules through the real CLI: a real HTTP server on 127.0.0.1 serves real .wasm files;
// every test has its own cache directory.

import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it, type ExpectStatic } from "vitest";
import { MODULES, moduleEntry, runCli, tempDir, textOf, withServer, writeConfig } from "./helpers.js";

const EXAMPLE = readFileSync(join(MODULES, "example.wasm"));
const EXAMPLE_SHA = sha256(EXAMPLE);
const BIG = Buffer.alloc(1536 * 1024, 7); // 1.5 MB, over a 1 MB limit
const BLOB_A = Buffer.alloc(700 * 1024, 1);
const BLOB_B = Buffer.alloc(700 * 1024, 2);

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

type Handler = (req: IncomingMessage, res: ServerResponse, hit: number) => void;

interface TestServer {
  url: string;
  /** Requests seen per path. */
  hits: (path: string) => number;
  close: () => Promise<void>;
}

async function startServer(routes: Record<string, Handler>): Promise<TestServer> {
  const counts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const hit = (counts.get(path) ?? 0) + 1;
    counts.set(path, hit);
    const route = routes[path] ?? routes[path.replace(/\/[^/]*$/, "/*")];
    if (route) route(req, res, hit);
    else {
      res.statusCode = 404;
      res.end("not found");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: (path) => counts.get(path) ?? 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const send = (bytes: Uint8Array) => (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(200, { "content-type": "application/wasm", "content-length": bytes.length });
  res.end(bytes);
};

/** Both requests of a pair are answered only once both have arrived: only parallel downloads finish. */
function barrier(): Handler {
  const waiting: ServerResponse[] = [];
  return (_req, res) => {
    waiting.push(res);
    if (waiting.length === 2) for (const r of waiting) send(EXAMPLE)(_req, r);
  };
}

let server: TestServer;

beforeAll(async () => {
  server = await startServer({
    "/example.wasm": send(EXAMPLE),
    "/blob-a.bin": send(BLOB_A),
    "/blob-b.bin": send(BLOB_B),
    "/redirect/*": (req, res) => {
      res.writeHead(302, { location: "/example.wasm" });
      res.end();
    },
    "/redirect-insecure.wasm": (_req, res) => {
      res.writeHead(302, { location: "http://example.com/example.wasm" });
      res.end();
    },
    "/flaky/*": (req, res, hit) => {
      if (hit === 1) {
        res.statusCode = 500;
        res.end("try later");
      } else send(EXAMPLE)(req, res);
    },
    "/truncated.wasm": (_req, res) => {
      res.writeHead(200, { "content-length": EXAMPLE.length });
      res.write(EXAMPLE.subarray(0, 100), () => res.destroy());
    },
    "/hang.wasm": () => {
      // Never answers; closeAllConnections() ends it when the server closes.
    },
    "/big.wasm": send(BIG),
    "/big-chunked.wasm": (_req, res) => {
      res.writeHead(200, { "content-type": "application/wasm" });
      for (let i = 0; i < BIG.length; i += 64 * 1024) res.write(BIG.subarray(i, i + 64 * 1024));
      res.end();
    },
    "/barrier/*": barrier(),
  });
});

afterAll(async () => {
  await server.close();
});

/** A config with its own cache directory; `body` holds [server] keys and modules. */
function remoteConfig(body: string, server = ""): { file: string; cache: string } {
  const dir = tempDir("wasmforge-remote-");
  const cache = join(dir, "cache");
  const file = writeConfig(`[server]\n${server}\n[cache]\ndirectory = ${JSON.stringify(cache)}\n\n${body}`, dir);
  return { file, cache };
}

function remoteEntry(name: string, url: string, pin?: string): string {
  return `[[modules]]\nname = "${name}"\nurl = "${url}"\n${pin ? `sha256 = "${pin}"\n` : ""}\n`;
}

const cachedFiles = (cache: string) => {
  const dir = join(cache, "modules");
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".wasm")) : [];
};

/** `serve` may start before a download finishes (it joins later): wait until the tool is listed. */
async function served(expect: ExpectStatic, client: { listTools(): Promise<{ tools: { name: string }[] }> }, tool: string): Promise<void> {
  await expect.poll(async () => (await client.listTools()).tools.map((t) => t.name)).toContain(tool);
}

// Independent cases (own cache, own URL paths): run them side by side.
describe.concurrent("remote modules", () => {
  it("a pinned module is downloaded and served, and a second start with the server stopped serves it offline", async ({ expect }) => {
    const own = await startServer({ "/example.wasm": send(EXAMPLE) });
    const { file, cache } = remoteConfig(`[[modules]]\nname = "remote"\n[modules.source]\ntype = "http"\nurl = "${own.url}/example.wasm"\nsha256 = "${EXAMPLE_SHA}"\n`);

    await withServer(["serve", "--config", file], async (first) => {
      await served(expect, first.client, "add");
      expect(textOf(await first.client.callTool({ name: "add", arguments: { a: 2, b: 3 } }))).toBe("5");
    });
    expect(own.hits("/example.wasm")).toBe(1);
    expect(cachedFiles(cache)).toEqual([`${EXAMPLE_SHA}.wasm`]);

    await own.close();
    await withServer(["serve", "--config", file], async (second) => {
      await served(expect, second.client, "add");
      expect(textOf(await second.client.callTool({ name: "add", arguments: { a: 40, b: 2 } }))).toBe("42");
      expect(second.stderr()).not.toContain("downloading");
    });
  });

  it("a wrong pin is refused with expected and actual hash and the URL, and nothing is cached", async ({ expect }) => {
    const wrong = "0".repeat(64);
    const url = `${server.url}/example.wasm`;
    const { file, cache } = remoteConfig(remoteEntry("pinned-wrong", url, wrong));
    const run = await runCli(["fetch", "--config", file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`SHA-256 mismatch for ${url}: expected ${wrong}, got ${EXAMPLE_SHA}`);
    expect(run.stdout).toBe("");
    expect(cachedFiles(cache)).toEqual([]);
  });

  it("a truncated body is retried, then reported, and nothing is cached", async ({ expect }) => {
    const before = server.hits("/truncated.wasm");
    const { file, cache } = remoteConfig(remoteEntry("cut", `${server.url}/truncated.wasm`, EXAMPLE_SHA));
    const run = await runCli(["fetch", "--config", file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/module "cut" \(http:\/\/127\.0\.0\.1:\d+\/truncated\.wasm\): .*connection closed after 100 of 864 bytes/);
    expect(run.stderr).toContain("gave up after 3 attempts");
    expect(server.hits("/truncated.wasm") - before).toBe(3);
    expect(cachedFiles(cache)).toEqual([]);
    expect(readdirSync(join(cache, ".wasmforge-tmp"))).toEqual([]);
  });

  it("a 404 fails only its module: the other modules still serve", async ({ expect }) => {
    const url = `${server.url}/missing.wasm`;
    const { file } = remoteConfig(remoteEntry("gone", url, EXAMPLE_SHA) + moduleEntry("text", "text.wasm"));
    await withServer(["serve", "--config", file], async (c) => {
      const names = (await c.client.listTools()).tools.map((t) => t.name);
      expect(names).toContain("count_words");
      expect(names).not.toContain("add");
      await expect.poll(() => c.stderr()).toContain(`module "gone" (${url})`);
      await expect.poll(() => c.stderr()).toContain(`${url} answered 404 Not Found; check the URL`);
    });
    expect(server.hits("/missing.wasm")).toBe(1); // a 404 is not retried
  });

  it("a 500 is retried and the second attempt's module is served", async ({ expect }) => {
    const { file } = remoteConfig(remoteEntry("flaky", `${server.url}/flaky/once.wasm`, EXAMPLE_SHA));
    await withServer(["serve", "--config", file], async (c) => {
      await served(expect, c.client, "add");
      expect(textOf(await c.client.callTool({ name: "add", arguments: { a: 1, b: 1 } }))).toBe("2");
      await expect.poll(() => c.stderr()).toContain("answered 500 Internal Server Error; retrying");
    });
    expect(server.hits("/flaky/once.wasm")).toBe(2);
  });

  it("a server that never answers times out (download_timeout_ms)", async ({ expect }) => {
    const { file } = remoteConfig(remoteEntry("stuck", `${server.url}/hang.wasm`, EXAMPLE_SHA), "download_timeout_ms = 300");
    const run = await runCli(["fetch", "--config", file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/module "stuck" .*hang\.wasm: (download did not finish within 300 ms|the server stopped answering); .*download_timeout_ms/);
  });

  it("a module over max_download_mb is refused, with or without Content-Length", async ({ expect }) => {
    const { file, cache } = remoteConfig(
      remoteEntry("big", `${server.url}/big.wasm`, sha256(BIG)) + remoteEntry("big-chunked", `${server.url}/big-chunked.wasm`, sha256(BIG)),
      "max_download_mb = 1",
    );
    const run = await runCli(["fetch", "--config", file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`module "big" (${server.url}/big.wasm): ${server.url}/big.wasm is larger than the 1 MiB download limit; raise [server] max_download_mb`);
    expect(run.stderr).toContain(`${server.url}/big-chunked.wasm is larger than the 1 MiB download limit`);
    expect(server.hits("/big-chunked.wasm")).toBe(1); // not retried
    expect(cachedFiles(cache)).toEqual([]);
  });

  it("a corrupted cache entry is discarded, downloaded again and served", async ({ expect }) => {
    const { file, cache } = remoteConfig(remoteEntry("remote", `${server.url}/redirect/corrupt.wasm`, EXAMPLE_SHA));
    expect((await runCli(["fetch", "--config", file])).code).toBe(0);
    const entry = join(cache, "modules", `${EXAMPLE_SHA}.wasm`);
    writeFileSync(entry, Buffer.from("\0asm tampered"));

    await withServer(["serve", "--config", file], async (c) => {
      await served(expect, c.client, "add");
      expect(textOf(await c.client.callTool({ name: "add", arguments: { a: 3, b: 4 } }))).toBe("7");
      await expect.poll(() => c.stderr()).toContain(`cache entry ${entry} is corrupted`);
    });
    expect(server.hits("/redirect/corrupt.wasm")).toBe(2);
    expect(sha256(readFileSync(entry))).toBe(EXAMPLE_SHA);
  });

  it("an unpinned URL is refused with the hash and the line to add; allow_unpinned accepts it", async ({ expect }) => {
    const url = `${server.url}/example.wasm`;
    const refused = remoteConfig(remoteEntry("loose", url));
    const run = await runCli(["fetch", "--config", refused.file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${url} has no sha256 pin, so it was not loaded`);
    expect(run.stderr).toContain(`sha256 = "${EXAMPLE_SHA}"`);
    expect(cachedFiles(refused.cache)).toEqual([]);

    const allowed = remoteConfig(remoteEntry("loose", url), "allow_unpinned = true");
    const ok = await runCli(["fetch", "--config", allowed.file]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^loose  ${EXAMPLE_SHA} +864 B  ${url}\\n$`));
  });

  it("plain http:// to another host is refused, also when reached through a redirect", async ({ expect }) => {
    const { file } = remoteConfig(
      remoteEntry("direct", "http://example.com/example.wasm", EXAMPLE_SHA) + remoteEntry("redirected", `${server.url}/redirect-insecure.wasm`, EXAMPLE_SHA),
    );
    const run = await runCli(["fetch", "--config", file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`module "direct" (http://example.com/example.wasm): refusing plain http:// for http://example.com/example.wasm`);
    expect(run.stderr).toMatch(/module "redirected" .*refusing plain http:\/\/ .*allow_insecure_http = true/);
  });

  it("modules download in parallel", async ({ expect }) => {
    // Each barrier request is answered only when the other has arrived too.
    const { file } = remoteConfig(
      remoteEntry("one", `${server.url}/barrier/one.wasm`, EXAMPLE_SHA) + remoteEntry("two", `${server.url}/barrier/two.wasm`, EXAMPLE_SHA),
      "download_timeout_ms = 5000",
    );
    const run = await runCli(["fetch", "--config", file]);
    expect(run.stderr).not.toContain("retrying");
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n").filter(Boolean)).toHaveLength(2);
  });

  it("cache list shows entries, max_size_mb evicts the least recently used, cache clear empties it", async ({ expect }) => {
    const first = remoteConfig(remoteEntry("a", `${server.url}/blob-a.bin`, sha256(BLOB_A)));
    const cacheToml = `[cache]\ndirectory = ${JSON.stringify(first.cache)}\nmax_size_mb = 1\n`;
    writeFileSync(first.file, `${cacheToml}\n${remoteEntry("a", `${server.url}/blob-a.bin`, sha256(BLOB_A))}`);
    expect((await runCli(["fetch", "--config", first.file])).code).toBe(0);
    const listed = await runCli(["cache", "list", "--config", first.file]);
    expect(listed.stdout).toContain(`${sha256(BLOB_A)}  `);
    expect(listed.stdout).toContain(`${server.url}/blob-a.bin  (module a)`);

    // A second fetch needing another 700 KB pushes the cache over 1 MB: the older entry goes.
    const second = writeConfig(`${cacheToml}\n${remoteEntry("b", `${server.url}/blob-b.bin`, sha256(BLOB_B))}`);
    expect((await runCli(["fetch", "--config", second])).code).toBe(0);
    expect(cachedFiles(first.cache)).toEqual([`${sha256(BLOB_B)}.wasm`]);

    const cleared = await runCli(["cache", "clear", "--config", second]);
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toContain(`removed 1 cached module`);
    expect(cachedFiles(first.cache)).toEqual([]);
    expect((await runCli(["cache", "list", "--config", second])).stdout).toBe("");
  });

  it("a cache directory shared with other files: downloads, eviction and cache clear remove only WasmForge's own", async ({ expect }) => {
    // [cache] directory = "." beside a user's project: their tmp/ and modules/ files must survive.
    const dir = tempDir("wasmforge-shared-cache-");
    mkdirSync(join(dir, "tmp", "project"), { recursive: true });
    mkdirSync(join(dir, "modules"), { recursive: true });
    const notes = join(dir, "tmp", "notes.txt");
    const source = join(dir, "tmp", "project", "src.c");
    const theirs = join(dir, "modules", "README.md");
    // Named like a cache entry, but WasmForge never recorded it.
    const lookalike = join(dir, "modules", `${"ab".repeat(32)}.wasm`);
    for (const f of [notes, source, theirs, lookalike]) writeFileSync(f, "mine");
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    utimesSync(notes, twoDaysAgo, twoDaysAgo);
    const cacheToml = `[cache]\ndirectory = "."\nmax_size_mb = 1\n\n`;
    const file = writeConfig(cacheToml + remoteEntry("a", `${server.url}/blob-a.bin`, sha256(BLOB_A)), dir);
    expect((await runCli(["fetch", "--config", file])).code).toBe(0);
    writeFileSync(file, cacheToml + remoteEntry("b", `${server.url}/blob-b.bin`, sha256(BLOB_B)));
    expect((await runCli(["fetch", "--config", file])).code).toBe(0); // over 1 MB: evicts a
    expect(cachedFiles(dir).sort()).toEqual([`${"ab".repeat(32)}.wasm`, `${sha256(BLOB_B)}.wasm`].sort());
    const cleared = await runCli(["cache", "clear", "--config", file]);
    expect(cleared.stdout).toContain("removed 1 cached module");
    for (const f of [notes, source, theirs, lookalike]) expect(readFileSync(f, "utf8")).toBe("mine");
    expect(existsSync(join(dir, ".wasmforge-tmp"))).toBe(false);
  });

  it("cache entries that are not regular files are not read: a FIFO, a link to /dev/zero, a directory", async ({ expect }) => {
    const cases = [
      { what: "a FIFO", make: (p: string) => execFileSync("mkfifo", [p]), says: "is not a regular file" },
      { what: "a link", make: (p: string) => symlinkSync("/dev/zero", p), says: "is a symbolic link" },
      { what: "a directory", make: (p: string) => mkdirSync(p), says: "is not a regular file" },
    ];
    for (const c of cases) {
      const { file, cache } = remoteConfig(remoteEntry("remote", `${server.url}/example.wasm`, EXAMPLE_SHA));
      mkdirSync(join(cache, "modules"), { recursive: true });
      const entry = join(cache, "modules", `${EXAMPLE_SHA}.wasm`);
      c.make(entry);
      const run = await runCli(["call", "add", '{"a": 2, "b": 3}', "--config", file]);
      expect(run.stderr, c.what).toContain(`cache entry ${entry} ${c.says}`);
      expect(run.stdout.trim(), c.what).toBe("5");
    }
  });
});
