// The tools being served right now, and how a call reaches them. Transports and sessions talk to
// this; it knows nothing of sockets or JSON-RPC framing.

import {
  type CallToolResult,
  type GetPromptResult,
  type Prompt,
  type ReadResourceResult,
  type Resource,
  type ResourceTemplate,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import { loadConfig, type Config } from "../config/load.js";
import {
  parseNotification,
  parsePromptResult,
  parseReadResult,
  parseToolResult,
  PluginOutputError,
  promptInput,
  resourceInput,
  toolCallInput,
  type PluginNotification,
  type RequestInfo,
} from "../discovery/describing.js";
import { log } from "../core/log.js";
import type { NotificationMethod } from "../runtime/host-functions.js";
import { WorkerPool, defaultPoolSize, type CallOutcome, type CallRequest } from "../runtime/pool.js";
import { valueText, type CallValue } from "../runtime/protocol.js";
import { ArgumentError, checkArguments, toCallInput } from "./arguments.js";
import { assembleCatalog, buildCatalog, loadModules, type Catalog, type LoadedModule, type ModuleFailure } from "./catalog.js";
import { configOffers } from "./config-offers.js";
import { internalError, invalidParams, resourceNotFound } from "./errors.js";
import { mergePrompts, mergeResources, mergeResourceTemplates, promptSource, resourceSource, type OfferSource } from "./offers.js";

export interface CallContext {
  signal?: AbortSignal;
  /** The MCP request being served; plugins that describe themselves receive it as their context. */
  request?: RequestInfo;
  /** Logging and progress notifications the plugin sent for this request (already checked). */
  onNotify?: (notification: PluginNotification) => void;
  /** The call left the queue and runs in a worker. */
  onStart?: () => void;
}


export interface ReloadReport {
  changed: boolean;
  failures: ModuleFailure[];
}

type ChangeListener = () => void;
type OffersListener = (changed: { prompts: boolean; resources: boolean }) => void;

export class ToolHost {
  private readonly listeners = new Set<ChangeListener>();
  private readonly offerListeners = new Set<OffersListener>();
  /** Calls running per module key: a replaced module is unloaded once its calls have finished. */
  private readonly running = new Map<string, number>();
  private readonly retired = new Set<string>();
  private reloading: Promise<void> = Promise.resolve();

  private constructor(
    public config: Config,
    private catalog: Catalog,
    readonly pool: WorkerPool,
  ) {}

  static async start(config: Config): Promise<ToolHost> {
    const pool = new WorkerPool(config.server.pool_size ?? defaultPoolSize());
    const catalog = await buildCatalog(config, undefined, pool);
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
      ...(tool.title ? { title: tool.title } : {}),
      ...(tool.annotations ? { annotations: tool.annotations } : {}),
    }));
  }

  async callTool(name: string, args: unknown, ctx: CallContext = {}): Promise<CallToolResult> {
    const served = this.catalog.tools.get(name);
    if (!served) {
      throw invalidParams(`Unknown tool: "${name}". Call tools/list for the available tools.`);
    }
    const { tool, module } = served;
    let checked: Record<string, unknown>;
    try {
      checked = checkArguments(tool, args);
    } catch (err) {
      if (err instanceof ArgumentError) return errorResult(err.message);
      throw err;
    }
    const outcome = await this.run(module, ctx, {
      fn: tool.function,
      shape: tool.shape,
      input: tool.plugin ? { kind: "text", text: toolCallInput(tool.plugin, checked, ctx.request ?? {}) } : toCallInput(tool, checked),
      timeoutMs: tool.timeoutMs ?? module.spec.timeoutMs,
    });
    if (!outcome.ok) {
      log.debug(`call ${name} failed (${outcome.reason}): ${outcome.error}`);
      return errorResult(`tool "${name}" failed: ${outcome.error}`);
    }
    if (!tool.plugin) return toToolResult(outcome.value, tool.shape.pattern);
    try {
      // The plugin's own result, content (images, resources) and structuredContent as it gave them.
      return parseToolResult(tool, valueText(outcome.value));
    } catch (err) {
      if (!(err instanceof PluginOutputError)) throw err;
      log.warn(`[${module.spec.name}] tool "${name}": ${err.message}`);
      return errorResult(`tool "${name}" failed: ${err.message}`);
    }
  }

  /** Every source of prompts and resources: the config's own first (the user wrote them), then plugins in config order. */
  offerSources(): OfferSource[] {
    const plugins = this.catalog.modules.filter((m) => m.discovery.offers).map((m) => this.pluginOffers(m));
    const fromConfig = configOffers(this.config);
    return fromConfig ? [fromConfig, ...plugins] : plugins;
  }

  /** Whether anything offers prompts or resources (sessions declare the capabilities only then). */
  offers(): { prompts: boolean; resources: boolean } {
    const sources = this.offerSources();
    return {
      prompts: sources.some((s) => s.prompts.length > 0),
      resources: sources.some((s) => s.resources.length + s.resourceTemplates.length > 0),
    };
  }

  listPrompts(): Prompt[] {
    return mergePrompts(this.offerSources()).items;
  }

  listResources(): Resource[] {
    return mergeResources(this.offerSources()).items;
  }

  listResourceTemplates(): ResourceTemplate[] {
    return mergeResourceTemplates(this.offerSources()).items;
  }

  async getPrompt(name: string, args: Record<string, string> | undefined, ctx: CallContext = {}): Promise<GetPromptResult> {
    const source = promptSource(this.offerSources(), name);
    if (!source) throw invalidParams(`Unknown prompt: "${name}". Call prompts/list for the available prompts.`);
    return source.getPrompt(name, args, ctx);
  }

  async readResource(uri: string, ctx: CallContext = {}): Promise<ReadResourceResult> {
    const source = resourceSource(this.offerSources(), uri);
    if (!source) {
      throw resourceNotFound(`Resource not found: "${uri}". Call resources/list and resources/templates/list for what is served.`, uri);
    }
    return source.readResource(uri, ctx);
  }

  onOffersChanged(listener: OffersListener): () => void {
    this.offerListeners.add(listener);
    return () => this.offerListeners.delete(listener);
  }

  /** Prompts and resources of an interface-2 plugin, each request answered by the plugin in a worker. */
  private pluginOffers(module: LoadedModule): OfferSource {
    const offers = module.discovery.offers!;
    const ask = async (fn: string, input: string, what: string, ctx: CallContext): Promise<string> => {
      const outcome = await this.run(module, ctx, { fn, shape: { pattern: "extism" }, input: { kind: "text", text: input }, timeoutMs: module.spec.timeoutMs });
      if (!outcome.ok) throw internalError(`${what} failed: ${outcome.error}`);
      return valueText(outcome.value);
    };
    const checked = <T>(what: string, parse: () => T): T => {
      try {
        return parse();
      } catch (err) {
        if (!(err instanceof PluginOutputError)) throw err;
        log.warn(`[${module.spec.name}] ${what}: ${err.message}`);
        throw internalError(`${what} failed: ${err.message}`);
      }
    };
    return {
      label: `module "${module.spec.name}"`,
      ...offers,
      getPrompt: async (name, args, ctx) => {
        const what = `prompt "${name}" (module "${module.spec.name}")`;
        const text = await ask("get_prompt", promptInput(name, args, ctx.request ?? {}), what, ctx);
        return checked(what, () => parsePromptResult(text));
      },
      readResource: async (uri, ctx) => {
        const what = `resource "${uri}" (module "${module.spec.name}")`;
        const text = await ask("read_resource", resourceInput(uri, ctx.request ?? {}), what, ctx);
        return checked(what, () => parseReadResult(text));
      },
    };
  }

  /** One call into a module, counted so a module replaced by a reload is unloaded only once idle. */
  private async run(module: LoadedModule, ctx: CallContext, call: Pick<CallRequest, "fn" | "shape" | "input" | "timeoutMs">): Promise<CallOutcome> {
    const key = module.key;
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
    try {
      return await this.pool.call({
        key,
        ...call,
        signal: ctx.signal,
        onLog: (level, message) => log[level](`[${module.spec.name}] ${message}`),
        onNotify: (method, json) => this.notify(module, ctx, method, json),
        onStart: ctx.onStart,
      });
    } finally {
      const left = (this.running.get(key) ?? 1) - 1;
      if (left > 0) this.running.set(key, left);
      else {
        this.running.delete(key);
        if (this.retired.delete(key)) this.pool.unregister(key);
      }
    }
  }

  private notify(module: LoadedModule, ctx: CallContext, method: NotificationMethod, json: string): void {
    try {
      ctx.onNotify?.(parseNotification(method, json));
    } catch (err) {
      log.warn(`[${module.spec.name}] dropped a notification: ${(err as Error).message}`);
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
  reload(): Promise<ReloadReport> {
    // One at a time (the watcher and the admin API may both ask): each sees the swap before it.
    const next = this.reloading.then(() => this.reloadNow());
    this.reloading = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private async reloadNow(): Promise<ReloadReport> {
    const config = loadConfig(this.config.file);
    const { modules, failures } = await loadModules(config, this.catalog, this.pool);
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
    const offersBefore = this.offersSignature();
    this.config = config;
    this.catalog = rebuilt;
    const offersAfter = this.offersSignature();
    for (const key of before) {
      if (after.has(key)) continue;
      if (this.running.has(key)) this.retired.add(key);
      else this.pool.unregister(key);
    }
    this.report(rebuilt);
    if (changed) for (const listener of this.listeners) listener();
    const offersChanged = { prompts: offersBefore.prompts !== offersAfter.prompts, resources: offersBefore.resources !== offersAfter.resources };
    if (offersChanged.prompts || offersChanged.resources) for (const listener of this.offerListeners) listener(offersChanged);
    return { changed, failures: rebuilt.failures };
  }

  private offersSignature(): { prompts: string; resources: string } {
    const sources = this.offerSources();
    return {
      prompts: JSON.stringify(mergePrompts(sources).items),
      resources: JSON.stringify([mergeResources(sources).items, mergeResourceTemplates(sources).items]),
    };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private report(catalog: Catalog): void {
    for (const m of catalog.modules) {
      const tools = m.discovery.tools.map((t) => t.name);
      const kind = m.discovery.interface ? `${m.discovery.abi}, ${m.discovery.interface}` : m.discovery.abi;
      log.info(`module "${m.spec.name}" (${kind}, ${m.origin}): ${tools.length} tool${tools.length === 1 ? "" : "s"}${tools.length ? `: ${tools.join(", ")}` : ""}`);
      const offers = m.discovery.offers;
      if (offers) {
        log.info(`module "${m.spec.name}" also offers ${offers.prompts.length} prompt(s), ${offers.resources.length} resource(s), ${offers.resourceTemplates.length} resource template(s)`);
      }
      for (const warning of m.discovery.warnings) log.warn(`module "${m.spec.name}": ${warning}`);
      for (const d of m.discovery.decisions) {
        log.debug(`module "${m.spec.name}" export ${d.export}${d.signature}: ${d.pattern ? `${d.pattern} (${d.rule})` : `skipped: ${d.rule}`}`);
      }
    }
    for (const f of catalog.failures) log.error(`module "${f.module}" (${f.origin}): ${f.error}`);
    const sources = this.offerSources();
    for (const clash of [...mergePrompts(sources).clashes, ...mergeResources(sources).clashes, ...mergeResourceTemplates(sources).clashes]) {
      log.warn(clash);
    }
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
    const result = Number.isFinite(value.value) ? value.value : String(value.value);
    return { content: [{ type: "text", text: String(value.value) }], structuredContent: { result } };
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
