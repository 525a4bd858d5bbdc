import { isIP } from "node:net";

/**
 * Whether a host name or address is this machine: `localhost` (and `*.localhost`), 127.0.0.0/8,
 * `::1` and IPv4-mapped loopback. One rule for binding listeners and for plain-http downloads.
 */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (h === "localhost" || h.endsWith(".localhost") || h === "::1") return true;
  const v4 = h.startsWith("::ffff:") ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith("127.");
}
