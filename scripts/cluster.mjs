#!/usr/bin/env node
// A WasmForge cluster on loopback: Redis (Debian's redis-server), N replicas of the built CLI and
// nginx in front of them, running deploy/nginx.conf with its ports and paths changed to free ones.
// test/infra/cluster.test.ts and bench/cluster.mjs start theirs with these functions; run it
// yourself to try a cluster:
//
//   node scripts/cluster.mjs [--replicas 3] [--config wasmforge.toml]
//
// prints the endpoints and serves until Ctrl-C, then stops everything it started.

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { connect as connectSocket, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CLI = join(ROOT, "dist", "cli.js");
const NGINX_CONF = join(ROOT, "deploy", "nginx.conf");

// Whatever this process started dies with it, even when a test or benchmark fails half-way.
const running = new Set();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** A port free on 127.0.0.1 now (the OS picks it; the caller binds it right after). */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Spawns a process and resolves once its output matches `ready` (a RegExp; absent: once it runs), with `stop()` (SIGTERM,
 * then the exit code), `kill()` (SIGKILL) and `output()`.
 */
export function startProcess(command, args, { ready, env = {}, what = command, timeoutMs = 20_000 } = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  child.on("close", () => running.delete(child));
  let output = "";
  const exited = new Promise((resolveExit) => child.on("close", (code, signal) => resolveExit(code ?? signal)));
  const started = new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${output}`)), timeoutMs);
    const onData = (chunk) => {
      output += chunk.toString();
      if (ready?.test(output)) {
        clearTimeout(timer);
        resolveStart();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`${what}: ${err.message}`));
    });
    // No line to wait for: started once it runs (the caller checks it serves).
    if (!ready) child.once("spawn", () => {
      clearTimeout(timer);
      resolveStart();
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready:\n${output}`));
    });
  });
  const handle = {
    child,
    exited,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      return exited;
    },
  };
  return started.then(() => handle);
}

/** redis-server on 127.0.0.1:`port`, its data (append-only file) in `dir`: a restart keeps it. */
export async function startRedis({ port, dir }) {
  mkdirSync(dir, { recursive: true });
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--save", "", "--protected-mode", "no"];
  const redis = await startProcess("redis-server", args, { ready: /Ready to accept connections/, what: "redis-server" });
  return { ...redis, url: `redis://127.0.0.1:${port}`, port };
}

/**
 * nginx running deploy/nginx.conf for these replicas: the upstream servers' ports become theirs
 * (r1, r2, … in order), the listen port `port`, and pid, logs and temp files go under `dir`.
 */
export async function startNginx({ port, replicas, dir }) {
  mkdirSync(dir, { recursive: true });
  const conf = nginxConfig(readFileSync(NGINX_CONF, "utf8"), { port, replicas, dir });
  const file = join(dir, "nginx.conf");
  writeFileSync(file, conf);
  // -e: the error log before the config is read; the config itself logs to `dir`.
  const nginx = await startProcess("nginx", ["-p", dir, "-c", file, "-e", join(dir, "error.log"), "-g", "daemon off;"], {
    // nginx prints nothing when it starts well: ready once it answers on its port (below).
    what: "nginx",
  });
  await waitForPort(port, () => nginx.output());
  return { ...nginx, url: `http://127.0.0.1:${port}`, port, file };
}

/** deploy/nginx.conf with the ports and paths of a cluster on loopback: its server lines, one per replica given. */
export function nginxConfig(text, { port, replicas, dir }) {
  const swap = (pattern, make) => {
    const lines = text.match(pattern);
    if (!lines) throw new Error(`deploy/nginx.conf no longer has lines like ${pattern}`);
    const first = lines[0].split("\n")[0];
    text = text.replace(pattern, replicas.map((r) => make(first, r)).join("\n") + "\n");
  };
  // The shared upstream's servers, the per-replica upstreams and the session map.
  swap(/( {4}server 127\.0\.0\.1:808\d max_fails[^\n]*\n)+/, (line, r) => line.replace(/:808\d/, `:${r.port}`));
  swap(/( {2}upstream wasmforge_r\d+ \{[^\n]*\n)+/, (line, r) => line.replace(/wasmforge_r\d+/, `wasmforge_${r.id}`).replace(/:808\d/, `:${r.port}`));
  swap(/( {4}~\^r\d+\\\. +wasmforge_r\d+;\n)+/, (line, r) => line.replace(/r\d+\\\./, `${r.id}\\.`).replace(/wasmforge_r\d+/, `wasmforge_${r.id}`));
  text = text
    .replace(/^pid .*;$/m, `pid ${join(dir, "nginx.pid")};`)
    .replace(/^error_log .*;$/m, `error_log ${join(dir, "error.log")} warn;`)
    .replace("listen 127.0.0.1:8080;", `listen 127.0.0.1:${port};`)
    // Temp files where this nginx may write them.
    .replace("http {\n", `http {\n${["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${join(dir, t)};\n`).join("")}`);
  // As root, nginx would run its workers as nobody, who cannot read a temp dir.
  return process.getuid?.() === 0 ? `user root;\n${text}` : text;
}

/**
 * `wasmforge serve --http 127.0.0.1:PORT --replica-id ID` with its own directory holding `config`
 * (each replica its own managed files, as on separate machines). `port` 0 picks one.
 */
export async function startReplica({ id, dir, config, port = 0, env = {}, args = [] }) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "wasmforge.toml");
  writeFileSync(file, config);
  const replica = await startProcess(process.execPath, [CLI, "serve", "-c", file, "--no-watch", "--http", `127.0.0.1:${port}`, "--replica-id", id, ...args], {
    ready: /listening on http:\/\/127\.0\.0\.1:\d+\/mcp/,
    env: { WASMFORGE_TOKEN: "", ...env },
    what: `replica ${id}`,
  });
  const bound = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp/.exec(replica.output())[1]);
  return { ...replica, id, dir, file, port: bound, url: `http://127.0.0.1:${bound}` };
}

async function waitForPort(port, output) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const open = await new Promise((resolveOpen) => {
      const socket = connectSocket({ port, host: "127.0.0.1" });
      socket.once("connect", () => {
        socket.destroy();
        resolveOpen(true);
      });
      socket.once("error", () => resolveOpen(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}:\n${output()}`);
}

async function main() {
  const argv = process.argv.slice(2);
  const option = (name, fallback) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : fallback;
  };
  const count = Number(option("--replicas", "3"));
  const configFile = resolve(option("--config", join(ROOT, "wasmforge.toml")));
  // Each replica gets a copy in its own directory: module paths are made absolute for it.
  const config = readFileSync(configFile, "utf8").replace(/^(\s*path\s*=\s*)"([^"]+)"/gm, (_, key, path) => `${key}${JSON.stringify(resolve(dirname(configFile), path))}`);
  const base = mkdtempSync(join(tmpdir(), "wasmforge-cluster-"));
  const redis = await startRedis({ port: await freePort(), dir: join(base, "redis") });
  const cluster = `\n[cluster]\nredis_url = "${redis.url}"\n`;
  const replicas = [];
  for (let i = 1; i <= count; i++) replicas.push(await startReplica({ id: `r${i}`, dir: join(base, `r${i}`), config: config + cluster }));
  const nginx = await startNginx({ port: await freePort(), replicas, dir: join(base, "nginx") });
  console.log(`Redis   ${redis.url}`);
  for (const r of replicas) console.log(`${r.id.padEnd(7)} ${r.url}/mcp  (${r.dir})`);
  console.log(`nginx   ${nginx.url}/mcp   <- point clients here`);
  console.log("Ctrl-C stops them all.");
  const stop = async () => {
    await nginx.stop();
    await Promise.all(replicas.map((r) => r.stop()));
    await redis.stop();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
