import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // test/infra/ needs real infrastructure (a registry from apt); `npm run test:oci` runs it.
    exclude: process.env.WASMFORGE_INFRA ? configDefaults.exclude : [...configDefaults.exclude, "test/infra/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests spawn real server processes; two cores run two files at a time comfortably.
    maxWorkers: 2,
  },
});
