// Long runs: tens of thousands of sequential calls to one Extism plugin and one plain module all
// succeed. @extism/extism keeps every call's memory blocks until reset and fails after about 16,383
// calls without one; a fresh plain instance is reset after every call. npm test runs past that mark.

import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { connect, ROOT, textOf } from "../helpers.js";
import { envNumber } from "./support.js";

const CALLS = envNumber("WASMFORGE_LONG_RUN_CALLS", 17_000);

describe(`long runs (${CALLS} sequential calls each)`, () => {
  it.each([
    ["count_vowels", { text: "long runs stay fast" }, (text: string) => expect(JSON.parse(text).count).toBe(4)],
    ["validate_url", { data: "https://example.com" }, (text: string) => expect(text).toBe("1")],
  ] as const)("%s: every call succeeds", async (name, args, check) => {
    const server = await connect(["serve", "--config", join(ROOT, "wasmforge.toml"), "--no-watch", "--log-level", "warn"]);
    try {
      const every = Math.max(1, Math.floor(CALLS / 10));
      const failures: string[] = [];
      for (let i = 0; i < CALLS; i++) {
        const result = await server.client.callTool({ name, arguments: args });
        if (result.isError) failures.push(`call ${i}: ${textOf(result)}`);
        else if (i % every === 0 || i === CALLS - 1) check(textOf(result));
      }
      expect(failures.slice(0, 3)).toEqual([]);
    } finally {
      await server.close();
    }
  }, 300_000);
});
