// What a module may import. Anything else fails at load time with the import's name, rather than
// as a LinkError on the first call.

import { EXTISM_NAMESPACE } from "../discovery/extism.js";
import type { ModuleAbi } from "../discovery/types.js";
import { formatSignature, type ImportEntry } from "../wasm/reader.js";
import { HOST_FUNCTIONS, USER_NAMESPACE } from "./host-functions.js";
import type { ImportPlan } from "./protocol.js";
import { WASI_NAMESPACE } from "./wasi.js";

/** The `extism:host/env` functions @extism/extism 1.0.3 provides. */
const EXTISM_KERNEL = [
  "alloc", "free", "load_u8", "load_u64", "store_u8", "store_u64", "input_offset", "input_length",
  "input_load_u8", "input_load_u64", "output_set", "error_set", "config_get", "var_get", "var_set",
  "http_request", "http_status_code", "length", "length_unsafe", "log_warn", "log_info", "log_debug", "log_error",
];
/** Host functions newer PDKs import that 1.0.3 lacks; extism-call.ts supplies them. */
const SUPPLIED = ["get_log_level", "log_trace", "http_headers"];
const EXTISM_PROVIDED = new Set([...EXTISM_KERNEL, ...SUPPLIED]);

/** What AssemblyScript modules import by default (asc without --use abort=...). */
const ASSEMBLYSCRIPT_ENV = new Set(["abort", "seed"]);


export function planImports(abi: ModuleAbi, imports: ImportEntry[], importedMemoryMinPages: number): ImportPlan {
  const unsupported: string[] = [];
  const wasiFunctions: string[] = [];
  const assemblyScriptEnv: string[] = [];
  let importedMemory: ImportPlan["importedMemory"];
  for (const imp of imports) {
    const label = `${imp.module}.${imp.name} (${imp.kind})`;
    if (imp.module === WASI_NAMESPACE && imp.kind === "function") {
      wasiFunctions.push(imp.name);
    } else if (abi === "raw" && imp.module === "env" && imp.kind === "function" && ASSEMBLYSCRIPT_ENV.has(imp.name)) {
      assemblyScriptEnv.push(imp.name); // provided by raw-call.ts
    } else if (imp.kind === "memory" && abi === "raw" && !importedMemory) {
      importedMemory = { module: imp.module, name: imp.name, minPages: importedMemoryMinPages, shared: false };
    } else if (abi === "extism" && imp.module === EXTISM_NAMESPACE && imp.kind === "function" && EXTISM_PROVIDED.has(imp.name)) {
      // provided by @extism/extism or by WasmForge
    } else if (abi === "extism" && imp.module === USER_NAMESPACE && imp.kind === "function" && HOST_FUNCTIONS[imp.name]) {
      // A wrong signature would otherwise be a LinkError on every call.
      const wanted = formatSignature(HOST_FUNCTIONS[imp.name]!);
      if (imp.signature && formatSignature(imp.signature) !== wanted) unsupported.push(`${label} with signature ${formatSignature(imp.signature)} (expected ${wanted})`);
    } else {
      unsupported.push(label);
    }
  }
  if (unsupported.length > 0) {
    const allowed = abi === "extism"
      ? `Extism plugins may import the ${EXTISM_NAMESPACE} host functions, ${USER_NAMESPACE}'s ${Object.keys(HOST_FUNCTIONS).join(", ")}, and ${WASI_NAMESPACE}`
      : `plain modules may import ${WASI_NAMESPACE} functions, AssemblyScript's env.abort and env.seed, and one memory`;
    throw new Error(`imports ${unsupported.join(", ")}, which WasmForge does not provide (${allowed})`);
  }
  return { wasiFunctions, assemblyScriptEnv, importedMemory };
}

/** The WASI 0.2 interfaces WasmForge gives components (runtime/component-wasi.ts), unversioned as the bindings key them. */
export const WASI_INTERFACES = [
  "wasi:cli/environment", "wasi:cli/exit", "wasi:cli/stdin", "wasi:cli/stdout", "wasi:cli/stderr",
  "wasi:cli/terminal-input", "wasi:cli/terminal-output", "wasi:cli/terminal-stdin", "wasi:cli/terminal-stdout", "wasi:cli/terminal-stderr",
  "wasi:clocks/monotonic-clock", "wasi:clocks/wall-clock",
  "wasi:filesystem/preopens", "wasi:filesystem/types",
  "wasi:io/error", "wasi:io/poll", "wasi:io/streams",
  "wasi:random/random", "wasi:random/insecure", "wasi:random/insecure-seed",
  "wasi:sockets/instance-network", "wasi:sockets/ip-name-lookup", "wasi:sockets/network",
  "wasi:sockets/tcp", "wasi:sockets/tcp-create-socket", "wasi:sockets/udp", "wasi:sockets/udp-create-socket",
  "wasi:http/types", "wasi:http/outgoing-handler",
] as const;
export type WasiInterface = (typeof WASI_INTERFACES)[number];

/**
 * Checks a component's imports (`wasi:cli/environment@0.2.3`): every one must be a WASI 0.2
 * interface WasmForge provides, at any 0.2.x version. Anything else fails at load, named, rather
 * than when the component is instantiated.
 */
export function checkComponentImports(imports: { name: string; sort: string }[]): void {
  const provided = new Set<string>(WASI_INTERFACES);
  const unsupported = imports.filter((imp) => {
    const [name, version] = imp.name.split("@");
    return imp.sort !== "instance" || !provided.has(name!) || (version !== undefined && !/^0\.2\.\d+/.test(version));
  });
  if (unsupported.length > 0) {
    throw new Error(
      `imports ${unsupported.map((i) => `${i.name} (${i.sort})`).join(", ")}, which WasmForge does not provide ` +
        `(components may import the WASI 0.2 interfaces of wasi:cli, wasi:clocks, wasi:filesystem, wasi:io, wasi:random, wasi:sockets and wasi:http's outgoing handler)`,
    );
  }
}
