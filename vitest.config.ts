import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // test/infra/ needs real infrastructure (a registry from apt); `npm run test:oci` runs it.
    exclude: process.env.WASMFORGE_INFRA ? configDefaults.exclude : [...configDefaults.exclude, "test/infra/**"],
    // Tests wait for events, not for time: these limits only end a test that would otherwise hang,
    // and leave a loaded two-core machine room to be slow.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // expect.poll waits for a server to get somewhere (a log line, a file, a count). On a loaded
    // two-core machine that can take seconds; only a server that never gets there waits it out.
    // A test that asserts nothing cannot fail: it fails.
    expect: { poll: { timeout: 30_000, interval: 20 }, requireAssertions: true },
    // Tests spawn real server processes; two cores run two files at a time comfortably.
    maxWorkers: 2,
  },
});
