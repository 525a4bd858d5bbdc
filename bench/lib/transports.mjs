// The ways a client can reach the servers under test. `serve(subject)` starts one server of a subject
// (bench/lib/servers.mjs) and returns `connect(era)`, giving a connected client, and `stop()`. Over
// stdio every client spawns its own server process; over TCP and HTTP one process serves the clients
// of both eras. stdio always exists; TCP and HTTP are added when `serve --help` offers them.

import { connectListening, connectStdio, spawnListening } from "./servers.mjs";

export const TRANSPORTS = ["stdio", "tcp", "http"];

const overNetwork = (name) => async (subject) => {
  const served = await spawnListening(subject.command(`--${name}`), name);
  return { connect: (era) => connectListening(served, era), stop: served.stop };
};

/** `only` (names) narrows the list; `missing` names transports this build does not have. */
export function transports(features, only) {
  const all = [
    { name: "stdio", serve: async (subject) => ({ connect: (era) => connectStdio(subject.command(), era), stop: async () => {} }) },
    features.tcp && { name: "tcp", serve: overNetwork("tcp") },
    features.http && { name: "http", serve: overNetwork("http") },
  ];
  const missing = ["tcp", "http"].filter((name) => !features[name] && (!only || only.includes(name)));
  const list = all.filter((t) => t && (!only || only.includes(t.name)));
  return { list, missing };
}
