// Prompts and resources of an interface-2 plugin (hyper-mcp v2), served through the same
// OfferSource contract as the config's own; each request is answered by the plugin in a worker.

import { writeLog } from "../core/log.js";
import { PluginOutputError } from "../discovery/plugin-json.js";
import { valueText } from "../runtime/protocol.js";
import type { LoadedModule } from "./catalog.js";
import type { CallContext, RunModule } from "./context.js";
import { internalError } from "./errors.js";
import { NeedsInput } from "./input.js";
import type { OfferSource } from "./offers.js";
import { parsePromptResult, parseReadResult, promptInput, resourceInput } from "./plugin-codec.js";

export function pluginOffers(module: LoadedModule, run: RunModule): OfferSource {
  const offers = module.discovery.offers!;
  const name = module.spec.name;
  const ask = async (fn: string, input: string, what: string, ctx: CallContext): Promise<string> => {
    const outcome = await run(module, ctx, { fn, shape: { pattern: "extism" }, input: { kind: "text", text: input }, timeoutMs: module.spec.timeoutMs });
    if (!outcome.ok && outcome.reason === "input") throw new NeedsInput(outcome.requests);
    if (!outcome.ok) throw internalError(`${what} failed: ${outcome.error}`);
    return valueText(outcome.value);
  };
  const checked = <T>(what: string, ctx: CallContext, parse: () => T): T => {
    try {
      return parse();
    } catch (err) {
      if (!(err instanceof PluginOutputError)) throw err;
      (ctx.log ?? writeLog)("warn", `[${name}] ${what}: ${err.message}`);
      throw internalError(`${what} failed: ${err.message}`);
    }
  };
  return {
    label: `module "${name}"`,
    ...offers,
    getPrompt: async (prompt, args, ctx) => {
      const what = `prompt "${prompt}" (module "${name}")`;
      const text = await ask("get_prompt", promptInput(prompt, args, ctx.request ?? {}), what, ctx);
      return checked(what, ctx, () => parsePromptResult(text));
    },
    readResource: async (uri, ctx) => {
      const what = `resource "${uri}" (module "${name}")`;
      const text = await ask("read_resource", resourceInput(uri, ctx.request ?? {}), what, ctx);
      return checked(what, ctx, () => parseReadResult(text));
    },
  };
}
