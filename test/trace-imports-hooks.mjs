import { appendFileSync } from "node:fs";

export async function resolve(specifier, context, next) {
  const file = process.env.WASMFORGE_TRACE_IMPORTS;
  if (file && specifier.startsWith("@bytecodealliance/")) appendFileSync(file, `${specifier}\n`);
  return next(specifier, context);
}
