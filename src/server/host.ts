// The tools being served right now, and how a call reaches them. Transports and sessions talk to
// this; it knows nothing of sockets or JSON-RPC framing.

import { ErrorCode, McpError, type CallToolResult, type Tool } from "@modelcontextprotocol/sdk/types.js";
import { loadConfig, type Config } from "../config/load.js";
import { log } from "../log.js";
import { WorkerPool, defaultPoolSize } from "../runtime/pool.js";
import type { CallValue } from "../runtime/protocol.js";
import { ArgumentError, checkArguments, toCallInput } from "./arguments.js";
import { assembleCatalog, buildCatalog, loadModules, type Catalog, type ModuleFailure } from "./catalog.js";

export interface CallContext {
  signal?: AbortSignal;
  onLog?: (level: "debug" | "info" | "warn" | "error", message: string) => void;
}

export interface ReloadReport {
  changed: boolean;
  failures: ModuleFailure[];
}

type ChangeListener = () => void;

export class ToolHost {
  private readonly listeners = new Set<ChangeListener>();
  /** Calls running per module key: a replaced module is unloaded once its calls have finished. */
  private readonly running = new Map<string, number>();
  private readonly retired = new Set<string>();

  private constructor(
    public config: Config,
    private catalog: Catalog,
    readonly pool: WorkerPool,
  ) {}

  static async start(config: Config): Promise<ToolHost> {
    const pool = new WorkerPool(config.server.pool_size ?? defaultPoolSize());
    const catalog = await buildCatalog(config);
    for (const m of catalog.modules) pool.register(m.key, m.module, m.options);
    const host = new ToolHost(config, catalog, pool);
    host.report(catalog);
    return host;
  }

  get current(): Catalog {
    return this.catalog;
  }

  listTools(): Tool[] {
    return [...this.catalog.tools.values()].map(({ tool }) => ({
      name: tool.name,
      description: tool.description,
      inputSchema: tool.inputSchema as Tool["inputSchema"],
      ...(tool.outputSchema ? { outputSchema: tool.outputSchema as Tool["outputSchema"] } : {}),
    }));
  }

  async callTool(name: string, args: unknown, ctx: CallContext = {}): Promise<CallToolResult> {
    const served = this.catalog.tools.get(name);
    if (!served) {
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool: "${name}". Call tools/list for the available tools.`);
    }
    const { tool, module } = served;
    let checked: Record<string, unknown>;
    try {
      checked = checkArguments(tool, args);
    } catch (err) {
      if (err instanceof ArgumentError) return errorResult(err.message);
      throw err;
    }
    const key = module.key;
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
    try {
      const outcome = await this.pool.call({
        key,
        fn: tool.function,
        shape: tool.shape,
        input: toCallInput(tool, checked),
        timeoutMs: tool.timeoutMs ?? module.spec.timeoutMs,
        signal: ctx.signal,
        onLog: (level, message) => {
          log[level](`[${module.spec.name}] ${message}`);
          ctx.onLog?.(level, message);
        },
      });
      if (!outcome.ok) {
        log.debug(`call ${name} failed (${outcome.reason}): ${outcome.error}`);
        return errorResult(`tool "${name}" failed: ${outcome.error}`);
      }
      return toToolResult(outcome.value, tool.shape.pattern);
    } finally {
      const left = (this.running.get(key) ?? 1) - 1;
      if (left > 0) this.running.set(key, left);
      else {
        this.running.delete(key);
        if (this.retired.delete(key)) this.pool.unregister(key);
      }
    }
  }

  onToolsChanged(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Re-reads the config and swaps in the new set atomically. A broken config, or a module that no
   * longer loads, keeps the last good version serving.
   */
  async reload(): Promise<ReloadReport> {
    const config = loadConfig(this.config.file);
    const { modules, failures } = await loadModules(config, this.catalog);
    // A module whose new version fails to load keeps serving its last good version.
    for (const failure of failures) {
      const good = this.catalog.modules.find((m) => m.spec.name === failure.module);
      if (good) {
        log.warn(`module "${failure.module}" keeps serving its last good version`);
        modules.push(good);
      }
    }
    const order = config.modules.map((m) => m.name);
    modules.sort((a, b) => order.indexOf(a.spec.name) - order.indexOf(b.spec.name));
    const rebuilt = assembleCatalog(modules, failures);
    const before = new Set(this.catalog.modules.map((m) => m.key));
    const after = new Set(rebuilt.modules.map((m) => m.key));
    for (const m of rebuilt.modules) if (!before.has(m.key)) this.pool.register(m.key, m.module, m.options);
    const changed = before.size !== after.size || [...after].some((k) => !before.has(k)) || toolsSignature(this.catalog) !== toolsSignature(rebuilt);
    this.config = config;
    this.catalog = rebuilt;
    for (const key of before) {
      if (after.has(key)) continue;
      if (this.running.has(key)) this.retired.add(key);
      else this.pool.unregister(key);
    }
    this.report(rebuilt);
    if (changed) for (const listener of this.listeners) listener();
    return { changed, failures: rebuilt.failures };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private report(catalog: Catalog): void {
    for (const m of catalog.modules) {
      const tools = m.discovery.tools.map((t) => t.name);
      log.info(`module "${m.spec.name}" (${m.discovery.abi}, ${m.origin}): ${tools.length} tool${tools.length === 1 ? "" : "s"}${tools.length ? `: ${tools.join(", ")}` : ""}`);
      for (const warning of m.discovery.warnings) log.warn(`module "${m.spec.name}": ${warning}`);
      for (const d of m.discovery.decisions) {
        log.debug(`module "${m.spec.name}" export ${d.export}${d.signature}: ${d.pattern ? `${d.pattern} (${d.rule})` : `skipped: ${d.rule}`}`);
      }
    }
    for (const f of catalog.failures) log.error(`module "${f.module}" (${f.origin}): ${f.error}`);
    log.info(`serving ${catalog.tools.size} tool${catalog.tools.size === 1 ? "" : "s"} from ${catalog.modules.length} module${catalog.modules.length === 1 ? "" : "s"}`);
  }
}

function toolsSignature(catalog: Catalog): string {
  return JSON.stringify([...catalog.tools.values()].map(({ tool, module }) => [tool.name, module.key, tool.description]));
}

export function errorResult(message: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text: message }] };
}

function toToolResult(value: CallValue, pattern: string): CallToolResult {
  if (value.kind === "number") {
    return { content: [{ type: "text", text: String(value.value) }], structuredContent: { result: value.value } };
  }
  const result: CallToolResult = { content: [{ type: "text", text: value.text }] };
  if (pattern !== "extism") {
    const structured = parseJsonObject(value.text);
    if (structured) result.structuredContent = structured;
  }
  return result;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith("{")) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
