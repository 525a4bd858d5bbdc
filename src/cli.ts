#!/usr/bin/env node
// wasmforge: an MCP server that turns WebAssembly modules into tools.

import { Command, Option } from "commander";
import { serve } from "./cli/serve.js";
import { ConfigError } from "./config/load.js";
import { LOG_LEVELS, log, setLogLevel, type LogLevel } from "./log.js";
import { SERVER_VERSION } from "./server/session.js";

const program = new Command()
  .name("wasmforge")
  .description("An MCP server that turns WebAssembly modules into tools an AI assistant can call.")
  .version(SERVER_VERSION)
  .addOption(new Option("--log-level <level>", "how much to log on stderr").choices(LOG_LEVELS).default("info"))
  .hook("preAction", (cmd) => setLogLevel(cmd.opts<{ logLevel: LogLevel }>().logLevel))
  .showHelpAfterError();

const configOption = () =>
  new Option(
    "-c, --config <path>",
    "config file (default: $WASMFORGE_CONFIG, else ./wasmforge.toml, else $XDG_CONFIG_HOME/wasmforge/config.toml)",
  );

program
  .command("serve")
  .description("serve the config's modules as MCP tools over stdio (JSON-RPC on stdin/stdout, logs on stderr)")
  .addOption(configOption())
  .addHelpText(
    "after",
    `
Examples:
  wasmforge serve                                    serve ./wasmforge.toml over stdio
  echo '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' | wasmforge serve
  WASMFORGE_CONFIG=/path/wasmforge.toml wasmforge serve

The server exits once stdin closes (after answering what it received), and on SIGINT/SIGTERM.`,
  )
  .action((opts: { config?: string }) => serve(opts));

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof ConfigError) log.error(err.message);
    else log.error((err as Error).stack ?? String(err));
    process.exit(1);
  }
}

void main();
