// The ways a client can reach the servers under test. Each entry starts one WasmForge server and one
// baseline and connects a Client to each; the call figures are measured over every entry. stdio always
// exists; TCP and HTTP are added when `serve --help` offers them.

import { baselineCommand, connectHttp, connectStdio, connectTcp, wasmforgeCommand } from "./servers.mjs";

// The network servers log their address at info level; each is compared with the bare SDK server
// over the same transport (bench/baseline-server.mjs --tcp / --http).
const listenArgs = (flag) => [flag, "127.0.0.1:0", "--log-level", "info"];

/**
 * `only` (names) narrows the list. `scale` shrinks the number of calls for a slow transport, to keep
 * the whole run within minutes. `missing` names transports this build does not have.
 */
export function transports(features, config, only) {
  const all = [
    {
      name: "stdio",
      wasmforge: () => connectStdio(wasmforgeCommand(config)),
      baseline: () => connectStdio(baselineCommand()),
    },
    features.tcp && {
      name: "tcp",
      wasmforge: () => connectTcp(wasmforgeCommand(config, listenArgs("--tcp"))),
      baseline: () => connectTcp(baselineCommand(["--tcp", "0"])),
    },
    features.http && {
      name: "http",
      // The SDK's HTTP client (fetch + SSE) limits both servers to a few thousand calls a second.
      scale: 0.25,
      wasmforge: () => connectHttp(wasmforgeCommand(config, listenArgs("--http"))),
      baseline: () => connectHttp(baselineCommand(["--http", "0"])),
    },
  ];
  const missing = ["tcp", "http"].filter((name) => !features[name] && (!only || only.includes(name)));
  const list = all.filter((t) => t && (!only || only.includes(t.name)));
  return { list, missing };
}
