// Long runs: tens of thousands of calls to one Extism plugin and one plain module, all on one worker's
// instance, all succeed. @extism/extism keeps every call's memory blocks until reset and fails after
// about 16,383 calls without one; a fresh plain instance is reset after every call. npm test runs past
// that mark. One worker runs the calls one after the other; the client keeps 16 of them in flight, so
// the run costs the calls, not 17,000 round trips.
//
//   WASMFORGE_LONG_RUN_CALLS (default 17,000)

import { describe, expect, it } from "vitest";
import { moduleEntry, textOf, withServer, writeConfig } from "../helpers.js";
import { envNumber } from "./support.js";

const CALLS = envNumber("WASMFORGE_LONG_RUN_CALLS", 17_000);
const IN_FLIGHT = 16;

describe(`long runs (${CALLS} calls each, on one worker)`, () => {
  it.each([
    ["count_vowels", { text: "long runs stay fast" }, (text: string) => expect(JSON.parse(text).count).toBe(4)],
    ["validate_url", { data: "https://example.com" }, (text: string) => expect(text).toBe("1")],
  ] as const)("%s: every call succeeds", async (name, args, check) => {
    const config = writeConfig(`[server]\npool_size = 1\n${moduleEntry("text-plugin", "text-plugin.wasm")}${moduleEntry("example", "example.wasm")}`);
    await withServer(["serve", "--config", config, "--no-watch", "--log-level", "warn"], async (server) => {
      const every = Math.max(1, Math.floor(CALLS / 10));
      const failures: string[] = [];
      let next = 0;
      const lane = async () => {
        for (let i = next++; i < CALLS; i = next++) {
          const result = await server.client.callTool({ name, arguments: args });
          if (result.isError) failures.push(`call ${i}: ${textOf(result)}`);
          else if (i % every === 0 || i === CALLS - 1) check(textOf(result));
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
      expect(next).toBeGreaterThanOrEqual(CALLS);
      expect(failures.slice(0, 3)).toEqual([]);
    });
  }, 300_000);
});
