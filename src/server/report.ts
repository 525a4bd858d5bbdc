// What the log says after every load and reload: each module with its tools, warnings and
// failures, and (at --log-level debug) every discovery decision.

import { log } from "../core/log.js";
import type { Catalog } from "./catalog.js";
import { mergePrompts, mergeResources, mergeResourceTemplates, type OfferSource } from "./offers.js";

export function reportCatalog(catalog: Catalog, sources: OfferSource[]): void {
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
  for (const clash of [...mergePrompts(sources).clashes, ...mergeResources(sources).clashes, ...mergeResourceTemplates(sources).clashes]) {
    log.warn(clash);
  }
  log.info(`serving ${catalog.tools.size} tool${catalog.tools.size === 1 ? "" : "s"} from ${catalog.modules.length} module${catalog.modules.length === 1 ? "" : "s"}`);
}
