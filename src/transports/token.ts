// Bearer tokens, compared in constant time: used by the MCP endpoint and the admin API alike.

import { createHash, timingSafeEqual } from "node:crypto";

export type TokenVerdict = "ok" | "missing" | "wrong";

/** Hashing both sides first makes the compared lengths equal too, so the length leaks nothing. */
export function tokenChecker(token: string): (header: string | undefined) => TokenVerdict {
  const expected = createHash("sha256").update(token).digest();
  return (header) => {
    const match = /^Bearer +(\S+) *$/i.exec(header ?? "");
    if (!match) return "missing";
    const given = createHash("sha256").update(match[1]!).digest();
    return timingSafeEqual(expected, given) ? "ok" : "wrong";
  };
}
