// Loaded with `node --import` (through NODE_OPTIONS, so worker threads load it too): appends every
// @bytecodealliance/* module that is imported to the file named by WASMFORGE_TRACE_IMPORTS.
import { register } from "node:module";

register("./trace-imports-hooks.mjs", import.meta.url);
