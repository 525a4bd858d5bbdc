// The tools, prompts and resources being served right now, and the swap to a new set on reload.
// Sessions talk to this; it knows nothing of sockets or JSON-RPC framing. A call's own path is in
// call-tool.ts; prompts and resources come from every OfferSource (offers.ts).

import type { CallToolResult, GetPromptResult, Prompt, ReadResourceResult, Resource, ResourceTemplateType as ResourceTemplate, Tool } from "@modelcontextprotocol/server";
import { loadConfig, type Config } from "../config/load.js";
import { log, writeLog } from "../core/log.js";
import { serialQueue } from "../core/serial.js";
import { isListChanged, type ListChangedMethod } from "../runtime/host-functions.js";
import { WorkerPool, defaultPoolSize, type CallOutcome } from "../runtime/pool.js";
import { Runner } from "../runtime/runner.js";
import { callTool } from "./call-tool.js";
import { assembleCatalog, buildCatalog, describeAgain, loadModulesWaiting, type Catalog, type LoadedModule, type ModuleFailure, type StillLoading } from "./catalog.js";
import { configOffers } from "./config-offers.js";
import type { CallContext, ModuleCall, RunModule } from "./context.js";
import { invalidParams, resourceNotFound } from "./errors.js";
import { mergePrompts, mergeResources, mergeResourceTemplates, promptSource, resourceSource, type OfferSource } from "./offers.js";
import { parseNotification } from "./plugin-codec.js";
import { pluginOffers } from "./plugin-offers.js";
import { reportCatalog } from "./report.js";

export interface ReloadReport {
  changed: boolean;
  failures: ModuleFailure[];
}

type ChangeListener = () => void;
/** How a tools/call ended: "ok", or why not (see ToolHost.onCall). */
export type CallOutcomeLabel = "ok" | "error" | "timeout" | "cancelled" | "crash" | "invalid_arguments" | "input_required" | "unknown_tool";
export type CallListener = (event: { phase: "start" } | { phase: "end"; tool: string; outcome: CallOutcomeLabel; seconds: number }) => void;
type OffersListener = (changed: { prompts: boolean; resources: boolean }) => void;

/** What changed in one swap: clients hear list_changed for each. */
interface Changes {
  tools: boolean;
  prompts: boolean;
  resources: boolean;
}

const ANNOUNCED: Record<ListChangedMethod, keyof Changes> = {
  "notifications/tools/list_changed": "tools",
  "notifications/prompts/list_changed": "prompts",
  "notifications/resources/list_changed": "resources",
};

/** What one catalog serves, worked out once per load or reload, not on every request. */
interface Served {
  catalog: Catalog;
  tools: Tool[];
  sources: OfferSource[];
  prompts: Prompt[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
}

export class ToolHost {
  private readonly listeners = new Set<ChangeListener>();
  private readonly callListeners = new Set<CallListener>();
  private readonly offerListeners = new Set<OffersListener>();
  /** Calls running per module key: a replaced module is unloaded once its calls have finished. */
  private readonly running = new Map<string, number>();
  private readonly retired = new Set<string>();
  /**
   * The watcher and the admin API may both ask for a reload, and plugins announce changes: one at a
   * time, each sees the swap before it.
   */
  private readonly reloads = serialQueue();
  /** Changes plugins announced (by module key) whose listing has not started yet: repeats merge. */
  private readonly announced = new Map<string, Set<keyof Changes>>();
  private served: Served;

  private readonly downloads = new Set<Promise<void>>();
  private closed = false;

  private constructor(
    public config: Config,
    catalog: Catalog,
    readonly runner: Runner,
    private readonly downloadsInBackground: boolean,
  ) {
    this.served = this.serve(config, catalog);
  }

  /**
   * `downloadsInBackground` (serve): a slow download does not hold up the start. The host waits at
   * most `[server] download_wait_ms` for the modules, serves those that loaded, and the rest join
   * as they arrive (clients hear list_changed). Otherwise (the author commands) every module is
   * loaded before this resolves.
   */
  static async start(config: Config, options: { downloadsInBackground?: boolean } = {}): Promise<ToolHost> {
    const pool = new WorkerPool(config.server.pool_size ?? defaultPoolSize());
    const background = options.downloadsInBackground === true;
    const { modules, failures, stillLoading } = await loadModulesWaiting(config, undefined, pool, background ? config.server.download_wait_ms : Infinity);
    const catalog = assembleCatalog(modules, failures);
    const runner = new Runner(pool);
    for (const m of catalog.modules) runner.register(m.key, m.module, m.options, m.metered);
    const host = new ToolHost(config, catalog, runner, background);
    reportCatalog(catalog, host.served.sources);
    host.joinLater(config, stillLoading);
    return host;
  }

  /** Whether modules are still being downloaded (they are not served yet). */
  get downloading(): boolean {
    return this.downloads.size > 0;
  }

  get current(): Catalog {
    return this.served.catalog;
  }

  listTools(): Tool[] {
    return this.served.tools;
  }

  callTool(name: string, args: unknown, ctx: CallContext = {}): Promise<CallToolResult> {
    if (this.callListeners.size === 0) return callTool(this.served.catalog, name, args, ctx, this.run);
    return this.observedCall(name, args, ctx);
  }

  /** Hears every tools/call start and end (metrics); with no listener a call pays nothing for it. */
  onCall(listener: CallListener): () => void {
    this.callListeners.add(listener);
    return () => this.callListeners.delete(listener);
  }

  /** Reloads done since start, and those that failed (the last good set kept serving). */
  readonly reloadCounts = { ok: 0, failed: 0 };

  private async observedCall(name: string, args: unknown, ctx: CallContext): Promise<CallToolResult> {
    const catalog = this.served.catalog;
    const started = performance.now();
    let reason: CallOutcomeLabel | undefined;
    const run: RunModule = async (module, c, call) => {
      const outcome = await this.run(module, c, call);
      if (!outcome.ok) reason = outcome.reason === "tool" ? "error" : outcome.reason === "input" ? "input_required" : outcome.reason;
      return outcome;
    };
    for (const listener of this.callListeners) listener({ phase: "start" });
    let outcome: CallOutcomeLabel = "crash";
    try {
      const result = await callTool(catalog, name, args, ctx, run);
      outcome = result.isError ? (reason ?? "invalid_arguments") : "ok";
      return result;
    } catch (err) {
      outcome = reason ?? (catalog.tools.has(name) ? "crash" : "unknown_tool");
      throw err;
    } finally {
      // An unknown name is the client's, not a tool: it is not a label of its own.
      const tool = catalog.tools.has(name) ? name : "";
      for (const listener of this.callListeners) listener({ phase: "end", tool, outcome, seconds: (performance.now() - started) / 1000 });
    }
  }

  /** Whether anything offers prompts or resources (sessions declare the capabilities only then). */
  offers(): { prompts: boolean; resources: boolean } {
    return {
      prompts: this.served.prompts.length > 0,
      resources: this.served.resources.length + this.served.resourceTemplates.length > 0,
    };
  }

  listPrompts(): Prompt[] {
    return this.served.prompts;
  }

  listResources(): Resource[] {
    return this.served.resources;
  }

  listResourceTemplates(): ResourceTemplate[] {
    return this.served.resourceTemplates;
  }

  async getPrompt(name: string, args: Record<string, string> | undefined, ctx: CallContext = {}): Promise<GetPromptResult> {
    const source = promptSource(this.served.sources, name);
    if (!source) throw invalidParams(`Unknown prompt: "${name}". Call prompts/list for the available prompts.`);
    return source.getPrompt(name, args, ctx);
  }

  async readResource(uri: string, ctx: CallContext = {}): Promise<ReadResourceResult> {
    const source = resourceSource(this.served.sources, uri);
    if (!source) {
      throw resourceNotFound(`Resource not found: "${uri}". Call resources/list and resources/templates/list for what is served.`, uri);
    }
    return source.readResource(uri, ctx);
  }

  onToolsChanged(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onOffersChanged(listener: OffersListener): () => void {
    this.offerListeners.add(listener);
    return () => this.offerListeners.delete(listener);
  }

  /**
   * Re-reads the config and swaps in the new set atomically. A broken config, or a module that no
   * longer loads, keeps the last good version serving.
   */
  reload(): Promise<ReloadReport> {
    return this.reloads(() => this.reloadNow()).then(
      (report) => {
        this.reloadCounts.ok++;
        return report;
      },
      (err: unknown) => {
        this.reloadCounts.failed++;
        throw err;
      },
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.runner.close();
  }

  /** One call into a module, counted so a module replaced by a reload is unloaded only once idle. */
  private readonly run = async (module: LoadedModule, ctx: CallContext, call: ModuleCall): Promise<CallOutcome> => {
    const key = module.key;
    const say = ctx.log ?? writeLog;
    /** What the plugin announced changed during this call: listed again once the call is over. */
    const announced = new Set<keyof Changes>();
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
    try {
      return await this.runner.call({
        key,
        ...call,
        signal: ctx.signal,
        answers: ctx.answers,
        onLog: (level, message) => say(level, `[${module.spec.name}] ${message}`),
        onNotify: (method, json) => {
          if (isListChanged(method)) return void announced.add(ANNOUNCED[method]);
          try {
            ctx.onNotify?.(parseNotification(method, json));
          } catch (err) {
            say("warn", `[${module.spec.name}] dropped a notification: ${(err as Error).message}`);
          }
        },
        onStart: ctx.onStart,
      });
    } finally {
      const left = (this.running.get(key) ?? 1) - 1;
      if (left > 0) this.running.set(key, left);
      else {
        this.running.delete(key);
        if (this.retired.delete(key)) this.runner.unregister(key);
      }
      if (announced.size > 0) this.listAgain(module, announced);
    }
  };

  /** Everything a catalog serves, in the order clients see it. */
  private serve(config: Config, catalog: Catalog): Served {
    // The config's own prompts and resources first (the user wrote them), then plugins in config order.
    const plugins = catalog.modules.filter((m) => m.discovery.offers).map((m) => pluginOffers(m, this.run));
    const fromConfig = configOffers(config);
    const sources = fromConfig ? [fromConfig, ...plugins] : plugins;
    return {
      catalog,
      tools: [...catalog.tools.values()].map(({ tool }) => ({
        name: tool.name,
        description: tool.description,
        inputSchema: tool.inputSchema as Tool["inputSchema"],
        ...(tool.outputSchema ? { outputSchema: tool.outputSchema as Tool["outputSchema"] } : {}),
        ...(tool.title ? { title: tool.title } : {}),
        ...(tool.annotations ? { annotations: tool.annotations } : {}),
      })),
      sources,
      prompts: mergePrompts(sources).items,
      resources: mergeResources(sources).items,
      resourceTemplates: mergeResourceTemplates(sources).items,
    };
  }

  private async reloadNow(): Promise<ReloadReport> {
    const config = loadConfig(this.config.file);
    const before = this.served.catalog;
    const waitMs = this.downloadsInBackground ? config.server.download_wait_ms : Infinity;
    const { modules, failures, stillLoading } = await loadModulesWaiting(config, before, this.runner.pool, waitMs);
    // A module whose new version fails to load, or is still loading, keeps serving its last good version.
    for (const name of [...failures.map((f) => f.module), ...(stillLoading?.specs ?? []).map((s) => s.name)]) {
      const good = before.modules.find((m) => m.spec.name === name);
      if (good) {
        log.warn(`module "${name}" keeps serving its last good version`);
        modules.push(good);
      }
    }
    const report = this.swap(config, modules, failures);
    this.joinLater(config, stillLoading);
    return report;
  }

  /** Modules still loading when the host stopped waiting are swapped in as they arrive. */
  private joinLater(config: Config, stillLoading: StillLoading | undefined): void {
    if (!stillLoading) return;
    const { specs } = stillLoading;
    const list = specs.map((s) => `"${s.name}"`).join(", ");
    log.info(`module${specs.length === 1 ? "" : "s"} ${list} still loading (downloading?); serving the others now, and ${specs.length === 1 ? "its" : "their"} tools once ${specs.length === 1 ? "it arrives" : "they arrive"}`);
    const arrival = stillLoading.done.then((arrived) =>
      this.reloads(async () => {
        // A reload since started its own downloads: these arrived for a config no longer served.
        if (this.closed || this.config !== config) {
          for (const m of arrived.modules) if (!this.served.catalog.modules.some((s) => s.key === m.key)) this.runner.unregister(m.key);
          return;
        }
        const names = new Set(specs.map((s) => s.name));
        const kept = this.served.catalog.modules.filter((m) => !names.has(m.spec.name));
        const keptFailures = this.served.catalog.failures.filter((f) => !names.has(f.module));
        this.swap(config, [...kept, ...arrived.modules], [...keptFailures, ...arrived.failures]);
      }),
    );
    this.downloads.add(arrival);
    void arrival.finally(() => this.downloads.delete(arrival));
  }

  /** Serves a new set of modules: registers, swaps, unloads what left once idle, reports, notifies. */
  private swap(config: Config, modules: LoadedModule[], failures: ModuleFailure[]): ReloadReport {
    const before = this.served;
    const order = config.modules.map((m) => m.name);
    modules.sort((a, b) => order.indexOf(a.spec.name) - order.indexOf(b.spec.name));
    const rebuilt = assembleCatalog(modules, failures);
    const keysBefore = new Set(before.catalog.modules.map((m) => m.key));
    const keysAfter = new Set(rebuilt.modules.map((m) => m.key));
    for (const m of rebuilt.modules) if (!keysBefore.has(m.key)) this.runner.register(m.key, m.module, m.options, m.metered);
    const recompiled = keysBefore.size !== keysAfter.size || [...keysAfter].some((k) => !keysBefore.has(k));
    const { tools: changed } = this.swapIn(config, rebuilt, { tools: recompiled });
    for (const key of keysBefore) {
      if (keysAfter.has(key)) continue;
      if (this.running.has(key)) this.retired.add(key);
      else this.runner.unregister(key);
    }
    reportCatalog(rebuilt, this.served.sources);
    return { changed, failures: rebuilt.failures };
  }

  /**
   * A plugin announced during a call (notify_tool_list_changed and its siblings) that its tools,
   * prompts or resources changed: once that call is over, it is asked for them again, as a reload
   * of that one module would, and clients hear list_changed for what it announced, even if its
   * lists read the same as before (the plugin is the authority on its own lists). Listings queue
   * behind reloads; announcements made before the listing starts make one listing.
   */
  private listAgain(module: LoadedModule, what: Set<keyof Changes>): void {
    if (!module.discovery.interface) {
      // A plain plugin's tools come from its exports and the config: there is nothing to list again.
      return writeLog("debug", `module "${module.spec.name}" announced that its lists changed, but it does not describe itself; nothing to list again`);
    }
    const pending = this.announced.get(module.key);
    if (pending) return void what.forEach((w) => pending.add(w));
    const announced = new Set(what);
    this.announced.set(module.key, announced);
    void this.reloads(async () => {
      this.announced.delete(module.key);
      const modules = this.served.catalog.modules;
      const index = modules.findIndex((m) => m.key === module.key);
      // Replaced by a reload meanwhile, which told clients.
      if (index < 0) return;
      let relisted: LoadedModule;
      try {
        relisted = await describeAgain(modules[index]!, this.runner.pool);
      } catch (err) {
        log.warn(`module "${module.spec.name}" announced that its lists changed, but listing them again failed (${(err as Error).message}); it keeps serving the lists it had`);
        return;
      }
      // A reload may have swapped the catalog while the plugin was being asked.
      const now = this.served.catalog;
      const at = now.modules.findIndex((m) => m.key === module.key);
      if (at < 0) return;
      const rebuilt = assembleCatalog(now.modules.map((m, i) => (i === at ? relisted : m)), now.loadFailures);
      this.swapIn(this.config, rebuilt, { tools: announced.has("tools"), prompts: announced.has("prompts"), resources: announced.has("resources") });
      // A new tool whose name another module already serves is left out: say so, as a reload would.
      for (const f of rebuilt.failures) if (!now.failures.some((g) => g.error === f.error)) log.error(`module "${f.module}" (${f.origin}): ${f.error}`);
      const { tools, offers } = relisted.discovery;
      log.info(
        `module "${module.spec.name}" announced that its ${[...announced].join(" and ")} changed; it now offers ${tools.length} tool(s), ` +
          `${offers?.prompts.length ?? 0} prompt(s), ${(offers?.resources.length ?? 0) + (offers?.resourceTemplates.length ?? 0)} resource(s) and template(s)`,
      );
    });
  }

  /**
   * Serves `catalog` from now on and tells clients what changed: what differs from before, and what
   * `also` names (a recompiled module, a plugin's announcement).
   */
  private swapIn(config: Config, catalog: Catalog, also: Partial<Changes> = {}): Changes {
    const before = this.served;
    const after = this.serve(config, catalog);
    this.config = config;
    this.served = after;
    const changes: Changes = {
      tools: Boolean(also.tools) || toolsSignature(before.catalog) !== toolsSignature(catalog),
      prompts: Boolean(also.prompts) || JSON.stringify(before.prompts) !== JSON.stringify(after.prompts),
      resources:
        Boolean(also.resources) ||
        JSON.stringify([before.resources, before.resourceTemplates]) !== JSON.stringify([after.resources, after.resourceTemplates]),
    };
    if (changes.tools) for (const listener of this.listeners) listener();
    if (changes.prompts || changes.resources) {
      for (const listener of this.offerListeners) listener({ prompts: changes.prompts, resources: changes.resources });
    }
    return changes;
  }
}

function toolsSignature(catalog: Catalog): string {
  return JSON.stringify([...catalog.tools.values()].map(({ tool, module }) => [tool.name, module.key, tool.description]));
}
