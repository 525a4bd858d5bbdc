// Where a network listener binds and whether it may: `[HOST:]PORT` parsing, the loopback rule
// (nothing is reachable from outside the machine unless the user asked), and listen() with errors
// a user can act on.

import { isIP, type Server } from "node:net";
import { isLoopback } from "../core/loopback.js";

export interface Address {
  host: string;
  port: number;
}

/** A listener that cannot or must not start; the message says what to change. */
export class BindError extends Error {
  override name = "BindError";
}

export const DEFAULT_HOST = "127.0.0.1";

/** Parses `PORT`, `HOST:PORT` or `[IPV6]:PORT`; the host defaults to 127.0.0.1. */
export function parseAddress(text: string, flag: string): Address {
  const match = /^(?:(\[[^\]]+\]|[^:[\]]*):)?(\d+)$/.exec(text.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || !Number.isInteger(port) || port > 65535) {
    throw new BindError(`${flag} ${text}: expected [HOST:]PORT with PORT 0-65535 (0 picks a free port), e.g. 8080 or 127.0.0.1:8080 or [::1]:8080`);
  }
  const host = (match[1] ?? "").replace(/^\[(.*)\]$/, "$1") || DEFAULT_HOST;
  if (host.includes(":") && isIP(host) !== 6) throw new BindError(`${flag} ${text}: "${host}" is not an IPv6 address`);
  return { host, port };
}

/** `HOST:PORT`, with IPv6 hosts in brackets. */
export function formatAddress({ host, port }: Address): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Refuses a non-loopback bind unless `--allow-remote` was given; warns when it was. */
export function checkExposure(scheme: string, address: Address, allowRemote: boolean, warn: (message: string) => void): void {
  if (isLoopback(address.host)) return;
  const where = `${scheme}://${formatAddress(address)}`;
  if (!allowRemote) {
    throw new BindError(
      `refusing to listen on ${where}: it is reachable from other machines. ` +
        `Pass --allow-remote if you mean it, or bind to 127.0.0.1.`,
    );
  }
  warn(`${where} is reachable from other machines (--allow-remote)`);
}

/** Listens and resolves with the real address (the real port when PORT was 0). */
export function listen(server: Server, address: Address, scheme: string): Promise<Address> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const where = `${scheme}://${formatAddress(address)}`;
      const why: Record<string, string> = {
        EADDRINUSE: "the port is already in use; pick another or pass port 0 for a free one",
        EACCES: "permission denied; ports below 1024 need privileges",
        EADDRNOTAVAIL: "this machine has no such address",
        ENOTFOUND: "the host name does not resolve",
      };
      reject(new BindError(`cannot listen on ${where}: ${why[err.code ?? ""] ?? err.message}`));
    };
    server.once("error", onError);
    server.listen(address.port, address.host, () => {
      server.off("error", onError);
      const bound = server.address();
      resolve(bound && typeof bound === "object" ? { host: address.host, port: bound.port } : address);
    });
  });
}
