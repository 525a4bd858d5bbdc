#!/usr/bin/env node
// wasmforge: an MCP server that turns WebAssembly modules into tools.

import { Command, Option } from "commander";
import type { ImportOptions } from "./cli/import.js";
import type { ServeOptions } from "./cli/serve.js";
import { ConfigError } from "./config/load.js";
import { BindError } from "./transports/bind.js";
import { LOG_LEVELS, log, setLogFormat, setLogLevel, type LogLevel } from "./core/log.js";
import { SERVER_VERSION } from "./version.js";

// Each command loads its own code when it runs, so `serve` over stdio starts without the HTTP,
// multipart, YAML or scaffolding code the other commands need.

const program = new Command()
  .name("wasmforge")
  .description("An MCP server that turns WebAssembly modules into tools an AI assistant can call.")
  .version(SERVER_VERSION)
  .addOption(new Option("--log-level <level>", "how much to log on stderr").choices(LOG_LEVELS).default("info"))
  .addOption(new Option("--log-format <format>", "stderr lines as text, or as JSON objects (time, level, message) for log collectors").choices(["text", "json"]).default("text"))
  .hook("preAction", (cmd) => {
    const { logLevel, logFormat } = cmd.opts<{ logLevel: LogLevel; logFormat: "text" | "json" }>();
    setLogLevel(logLevel);
    setLogFormat(logFormat);
  })
  .showHelpAfterError();

const configOption = () =>
  new Option(
    "-c, --config <path>",
    "config file (default: $WASMFORGE_CONFIG, else ./wasmforge.toml, else $XDG_CONFIG_HOME/wasmforge/config.toml)",
  );

program
  .command("serve")
  .description("serve the config's modules as MCP tools over stdio (JSON-RPC on stdin/stdout, logs on stderr), TCP or HTTP")
  .addOption(configOption())
  .option("--no-watch", "do not reload when the config or a module file changes")
  .option("--tcp [[host:]port]", "serve newline-delimited JSON-RPC over TCP (bare: 127.0.0.1:8080; port 0 picks a free one)")
  .option("--http <[host:]port>", "serve MCP Streamable HTTP at http://HOST:PORT/mcp")
  .option("--stdio", "serve stdio too when --tcp or --http is given (stdio is the default without them)")
  .option("--allow-remote", "allow --tcp/--http on a non-loopback address (HTTP then needs a token)")
  .option("--replica-id <id>", "this replica's name behind a load balancer (default: $WASMFORGE_REPLICA_ID or [cluster] replica_id): it prefixes the 2025 session ids it issues and labels its metrics and JSON logs")
  .addHelpText(
    "after",
    `
Examples:
  wasmforge serve                                    serve ./wasmforge.toml over stdio
  echo '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' | wasmforge serve
  WASMFORGE_CONFIG=/path/wasmforge.toml wasmforge serve
  wasmforge serve --tcp                              TCP on 127.0.0.1:8080, one session per connection
  wasmforge serve --http 3000                        Streamable HTTP at http://127.0.0.1:3000/mcp
  WASMFORGE_TOKEN=secret wasmforge serve --http 0.0.0.0:3000 --allow-remote
  wasmforge --log-format json serve --http 3000 --replica-id r1   one replica of several (see docs/deployment.md)

With --http, GET /healthz (alive), /readyz (ready for traffic) and /metrics (Prometheus) are served too.
Serving stdio alone, the server exits once stdin closes (after answering what it received).
On SIGINT/SIGTERM it stops accepting, finishes in-flight calls (at most [server] drain_ms), ends
listen streams and exits 0.`,
  )
  .action(async (opts: ServeOptions) => (await import("./cli/serve.js")).serve(opts));

program
  .command("fetch")
  .description("download and verify every module the config names (prints each module's name, SHA-256 and size)")
  .addOption(configOption())
  .addHelpText("after", "\nAfter a successful fetch, `wasmforge serve` starts without any network request.")
  .action(async (opts: { config?: string }) => (await import("./cli/fetch.js")).fetchModules(opts));

const cache = program.command("cache").description("inspect or empty the download cache ([cache] directory)");
cache
  .command("list")
  .description("list cached modules: SHA-256, size, last use, source URL or oci:// reference with its manifest digest")
  .addOption(configOption())
  .action(async (opts: { config?: string }) => (await import("./cli/cache.js")).cacheList(opts));
cache
  .command("clear")
  .description("delete every cached module (they are downloaded again when needed)")
  .addOption(configOption())
  .action(async (opts: { config?: string }) => (await import("./cli/cache.js")).cacheClear(opts));

// Module-author commands print results on stdout; keep stderr to warnings unless --log-level asks.
const quietByDefault = () => {
  if (program.getOptionValueSource("logLevel") === "default") setLogLevel("warn");
};

program
  .command("inspect")
  .description("show what WasmForge sees in a .wasm file: exports with signatures and the pattern each matched (or why it was skipped), imports, memories, Extism or not")
  .argument("<file>", "a .wasm file")
  .option("--json", "print the report as JSON")
  .action(async (file: string, opts: { json?: boolean }) => {
    quietByDefault();
    process.exitCode = await (await import("./cli/inspect.js")).inspect(file, opts);
  });

program
  .command("tools")
  .description("list the tools the config would serve, with module, pattern and arguments; exits 1 if a module fails to load")
  .addOption(configOption())
  .option("--json", "print the tools (with full input schemas) and failures as JSON")
  .action(async (opts: { config?: string; json?: boolean }) => {
    quietByDefault();
    process.exitCode = await (await import("./cli/tools.js")).tools(opts);
  });

program
  .command("call")
  .description("run one tool once and print its result (exit 1 with the error on stderr if it fails); no MCP client needed")
  .argument("<tool>", "tool name, as `wasmforge tools` lists it")
  .argument("[json_args]", "the arguments as one JSON object (default {}); - reads them from stdin")
  .addOption(configOption())
  .option("--json", "print the whole MCP result (content, structuredContent, isError) as JSON")
  .addHelpText(
    "after",
    `
Examples:
  wasmforge call add '{"a": 5, "b": 3}'               prints 8
  wasmforge call greet '{"name": "Ada"}' --config my-tools/wasmforge.toml
  echo '{"text": "hello"}' | wasmforge call count_vowels -`,
  )
  .action(async (tool: string, args: string | undefined, opts: { config?: string; json?: boolean }) => {
    quietByDefault();
    process.exitCode = await (await import("./cli/call.js")).call(tool, args, opts);
  });

program
  .command("new")
  .description("scaffold a module project (AssemblyScript, built as an Extism plugin) with a build script, a wasmforge.toml and a README")
  .argument("<name>", "project name: lowercase letters, digits, - or _")
  .option("--dir <dir>", "directory to create (default: ./NAME); must be new or empty")
  .action(async (name: string, opts: { dir?: string }) => {
    process.exitCode = (await import("./cli/new.js")).newProject(name, opts);
  });

program
  .command("import")
  .description("convert a hyper-mcp config or a WASImancer project into wasmforge.toml, printed on stdout")
  .argument("[file]", "hyper-mcp's config.json / .yaml / .toml, or WASImancer's plugins.yml (which one is told from the content)")
  .option("--resources <file>", "WASImancer resources.yml: static resources and dynamic ones (resource templates)")
  .option("--prompts <file>", "WASImancer prompts.yml")
  .option("--base <dir>", "WASImancer: the directory the TOML will be saved in; module paths are written relative to it (default: .)")
  .addHelpText(
    "after",
    `
Examples:
  wasmforge import ~/.config/hyper-mcp/config.json > wasmforge.toml
  wasmforge import plugins/plugins.yml > wasmforge.toml
  wasmforge import plugins/plugins.yml --resources resources/resources.yml --prompts prompts/prompts.yml > wasmforge.toml

hyper-mcp: each plugin becomes a [[modules]] entry with its url (oci://, https://) or path (file://);
allowed_hosts, allowed_paths, env_vars (as config) and memory_limit (as max_memory_mb) carry over, skip_tools
becomes hidden_tools, and tool_prefix = "<plugin>-" keeps the tool names hyper-mcp served. Unpinned oci:// and
https:// modules must be pinned before they load: \`wasmforge fetch\` prints the line for each.

What cannot be carried over exactly (s3:// plugins, keyring secrets, OAuth and other host functions, signature
checks, dropped keys, renamed tools, hidden exports) is reported on stderr.`,
  )
  .action(async (file: string | undefined, opts: ImportOptions) => {
    quietByDefault();
    process.exitCode = await (await import("./cli/import.js")).importConfig(file, opts);
  });

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof BindError) log.error(err.message);
    else log.error((err as Error).stack ?? String(err));
    process.exit(1);
  }
}

void main();
