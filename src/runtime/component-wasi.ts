// A deny-by-default WASI 0.2 for components, inside a call worker, built from the pieces of
// @bytecodealliance/preview2-shim's Node implementation:
//   - filesystem: only the directories `allowed_paths` grants (host dir → guest path); no preopen otherwise
//   - environment, arguments, initial cwd: none; `exit` ends the call (never the process)
//   - stdin: closed; stdout/stderr: captured, bounded, for the log — never the process's stdout,
//     which carries the MCP stdio stream
//   - sockets: TCP and UDP sockets and DNS answer access-denied
//   - wasi:http outgoing requests: only to `allowed_hosts` (as for Extism plugins); others get
//     HTTP-request-denied
//   - clocks and random: allowed
// Importing preview2-shim starts its own I/O thread, so this file is loaded only by a worker that
// runs a component; the thread ends with the worker.

import { ToolError } from "./failure.js";
import { isAllowedHost } from "./http-host.js";
import type { WasiInterface } from "./imports.js";
import { CAPTURE_LIMIT } from "./wasi.js";

/** The part of preview2-shim's Node build this host uses (its declared types are the browser build's). */
interface Preview2Shim {
  cli: { terminalInput: object; terminalOutput: object };
  clocks: { monotonicClock: object; wallClock: object };
  io: { error: object; poll: object; streams: { OutputStream: { prototype: object }; InputStream: { prototype: object } } & object };
  random: { random: object; insecure: object; insecureSeed: object };
  http: { types: object; outgoingHandler: { handle(request: OutgoingRequest, options: unknown): unknown } };
}
interface OutgoingRequest {
  authority(): string | undefined;
}
interface FilesystemShim {
  createFilesystem(config: { preopens: Record<string, string> }): { types: object; preopens: object };
}
interface SocketsShim {
  createSockets(config: { enableNetwork: boolean }): {
    instanceNetwork: object;
    ipNameLookup: object;
    network: object;
    tcp: object;
    udp: object;
  };
}

/** The component called wasi:cli/exit: the call ends with an error and the instance is dropped. */
export class ProcExit extends ToolError {
  constructor(readonly code: number) {
    super("module", `the component called exit(${code})`);
  }
}

export interface ComponentGrants {
  /** Host directory (absolute) → the guest path the component sees it at. */
  allowedPaths: Record<string, string>;
  allowedHosts: string[];
}

export interface CallOutput {
  stdout: string;
  stderr: string;
  truncated: boolean;
  /** What the component asked for and was refused, for the log. */
  denied: string[];
}

export interface WasiHost {
  imports: Record<WasiInterface, object>;
  /** What the component printed and was refused since the last call, then cleared. */
  takeOutput(): CallOutput;
}

const MAX_DENIALS = 20;

let loaded: Promise<{ shim: Preview2Shim; fs: FilesystemShim; sockets: SocketsShim }> | undefined;

function loadShim() {
  loaded ??= Promise.all([
    import("@bytecodealliance/preview2-shim"),
    import("@bytecodealliance/preview2-shim/filesystem"),
    import("@bytecodealliance/preview2-shim/sockets"),
  ]).then(([shim, fs, sockets]) => ({
    shim: shim as unknown as Preview2Shim,
    fs: fs as unknown as FilesystemShim,
    sockets: sockets as unknown as SocketsShim,
  }));
  return loaded;
}

/** A WASI 0.2 import object for one component instance, granting only what `grants` says. */
export async function createWasiHost(grants: ComponentGrants): Promise<WasiHost> {
  const { shim, fs, sockets } = await loadShim();
  const out = { stdout: [] as Uint8Array[], stderr: [] as Uint8Array[], bytes: 0, truncated: false, denied: [] as string[] };
  const deny = (what: string) => {
    if (out.denied.length < MAX_DENIALS) out.denied.push(what);
  };
  const sink = (which: "stdout" | "stderr") => (buffer: Uint8Array) => {
    const room = CAPTURE_LIMIT - out.bytes;
    if (buffer.length > room) out.truncated = true;
    if (room <= 0) return;
    const kept = buffer.subarray(0, room);
    out[which].push(Uint8Array.from(kept));
    out.bytes += kept.length;
  };
  const { OutputStream, InputStream } = shim.io.streams;

  // preview2-shim takes guest path → host path; allowed_paths is host → guest.
  const preopens = Object.fromEntries(Object.entries(grants.allowedPaths).map(([host, guest]) => [guest, host]));
  const filesystem = fs.createFilesystem({ preopens });
  const network = sockets.createSockets({ enableNetwork: false });
  const stdout = capturedStream(OutputStream.prototype, sink("stdout"));
  const stderr = capturedStream(OutputStream.prototype, sink("stderr"));
  const stdin = closedStream(InputStream.prototype);

  const imports: Record<WasiInterface, object> = {
    "wasi:cli/environment": { getEnvironment: () => [], getArguments: () => [], initialCwd: () => undefined },
    "wasi:cli/exit": {
      exit(status: { tag?: string } | undefined): never {
        throw new ProcExit(status?.tag === "err" ? 1 : 0);
      },
      exitWithCode(code: number): never {
        throw new ProcExit(code);
      },
    },
    "wasi:cli/stdin": { getStdin: () => stdin },
    "wasi:cli/stdout": { getStdout: () => stdout },
    "wasi:cli/stderr": { getStderr: () => stderr },
    "wasi:cli/terminal-input": shim.cli.terminalInput,
    "wasi:cli/terminal-output": shim.cli.terminalOutput,
    // Pipes, not a terminal.
    "wasi:cli/terminal-stdin": { getTerminalStdin: () => undefined },
    "wasi:cli/terminal-stdout": { getTerminalStdout: () => undefined },
    "wasi:cli/terminal-stderr": { getTerminalStderr: () => undefined },
    "wasi:filesystem/preopens": filesystem.preopens,
    "wasi:filesystem/types": filesystem.types,
    "wasi:io/error": shim.io.error,
    "wasi:io/poll": shim.io.poll,
    "wasi:io/streams": shim.io.streams,
    "wasi:random/random": shim.random.random,
    "wasi:random/insecure": shim.random.insecure,
    "wasi:random/insecure-seed": shim.random.insecureSeed,
    "wasi:clocks/monotonic-clock": shim.clocks.monotonicClock,
    "wasi:clocks/wall-clock": shim.clocks.wallClock,
    "wasi:sockets/instance-network": network.instanceNetwork,
    "wasi:sockets/ip-name-lookup": network.ipNameLookup,
    "wasi:sockets/network": network.network,
    "wasi:sockets/tcp": network.tcp,
    "wasi:sockets/udp": network.udp,
    // Refused before preview2-shim makes an OS socket (its own check comes only at bind or connect).
    // A thrown string is how the bindings raise a result's error case: here error-code.access-denied.
    "wasi:sockets/tcp-create-socket": {
      createTcpSocket(): never {
        deny("TCP socket: sockets are not granted to components");
        throw "access-denied";
      },
    },
    "wasi:sockets/udp-create-socket": {
      createUdpSocket(): never {
        deny("UDP socket: sockets are not granted to components");
        throw "access-denied";
      },
    },
    "wasi:http/types": shim.http.types,
    "wasi:http/outgoing-handler": {
      handle(request: OutgoingRequest, options: unknown) {
        const authority = request.authority() ?? "";
        const host = authority.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
        if (!host || !isAllowedHost(host, grants.allowedHosts)) {
          deny(`HTTP request to ${authority || "(no host)"}: add "${host}" to the module's allowed_hosts to allow it`);
          throw { tag: "HTTP-request-denied" }; // a wasi:http error-code, which the component sees as an error
        }
        return shim.http.outgoingHandler.handle(request, options);
      },
    },
  };

  return {
    imports,
    takeOutput() {
      const text = (parts: Uint8Array[]) => {
        const decoder = new TextDecoder();
        return parts.map((p) => decoder.decode(p, { stream: true })).join("") + decoder.decode();
      };
      const taken: CallOutput = { stdout: text(out.stdout), stderr: text(out.stderr), truncated: out.truncated, denied: out.denied };
      out.stdout = [];
      out.stderr = [];
      out.bytes = 0;
      out.truncated = false;
      out.denied = [];
      return taken;
    },
  };
}

const dispose = Symbol.dispose ?? Symbol.for("dispose");

/**
 * An output stream the bindings accept (an object of preview2-shim's class, which the generated
 * code checks with instanceof) whose methods, its own properties, write into `sink`.
 */
function capturedStream(prototype: object, sink: (bytes: Uint8Array) => void): object {
  const stream = Object.create(prototype) as Record<string | symbol, unknown>;
  const closed = () => {
    throw { tag: "closed" };
  };
  Object.assign(stream, {
    checkWrite: () => 1n << 20n,
    write: sink,
    blockingWriteAndFlush: sink,
    flush() {},
    blockingFlush() {},
    writeZeroes: (n: bigint) => sink(new Uint8Array(Number(n))),
    blockingWriteZeroesAndFlush: (n: bigint) => sink(new Uint8Array(Number(n))),
    splice: closed,
    blockingSplice: closed,
    subscribe() {
      throw new Error("subscribe on captured stdout/stderr is not supported");
    },
    [dispose]() {},
  });
  return stream;
}

/** stdin: always at its end. */
function closedStream(prototype: object): object {
  const stream = Object.create(prototype) as Record<string | symbol, unknown>;
  const closed = () => {
    throw { tag: "closed" };
  };
  Object.assign(stream, {
    read: closed,
    blockingRead: closed,
    skip: closed,
    blockingSkip: closed,
    subscribe() {
      throw new Error("subscribe on stdin is not supported");
    },
    [dispose]() {},
  });
  return stream;
}
