// A local HTTP server that holds every request until the test opens it. A call of the fetch plugin
// (test/wat.ts) aimed at a gate runs exactly as long as the test needs: no sleeping, no core spent
// spinning, and the gate sees each request arrive and, when its caller is ended, go away.

import { writeFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fetchPlugin } from "./wat.js";

/** Held calls end when the gate opens, not at a deadline, however long a loaded machine takes. */
export const HELD_TIMEOUT_MS = 600_000;

/**
 * Writes the fetch plugin into `dir` and returns its `[[modules]]` entry: a module whose `fetch`
 * calls may wait at a gate (allowed to reach 127.0.0.1) for as long as a test needs.
 */
export function heldModule(dir: string, name = "held"): string {
  writeFileSync(join(dir, "fetch.wasm"), fetchPlugin());
  return `[[modules]]\nname = "${name}"\npath = "fetch.wasm"\nallowed_hosts = ["127.0.0.1"]\ntimeout_ms = ${HELD_TIMEOUT_MS}\n`;
}

export interface Gate {
  /** What the fetch plugin's `url` argument is. */
  url: string;
  /** Requests that reached the gate. */
  arrived: () => number;
  /** Requests held right now. */
  waiting: () => number;
  /** Held requests whose connection closed before the gate answered: their caller was ended. */
  abandoned: () => number;
  /** Answers every held request, and from now on every new one at once, with `body` (text, or a module's bytes). */
  open: (body?: string | Uint8Array) => void;
  close: () => Promise<void>;
}

export async function startGate(): Promise<Gate> {
  const held = new Set<ServerResponse>();
  let arrived = 0;
  let abandoned = 0;
  let opened: string | Uint8Array | undefined;
  const server = createServer((_req, res) => {
    arrived++;
    if (opened !== undefined) return void res.end(opened);
    held.add(res);
    res.on("close", () => {
      if (held.delete(res)) abandoned++;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/gate`,
    arrived: () => arrived,
    waiting: () => held.size,
    abandoned: () => abandoned,
    open: (body = "opened") => {
      opened = body;
      for (const res of [...held]) {
        held.delete(res);
        res.end(body);
      }
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
