// Prompts and resources from every source that offers them (plugins that describe themselves now;
// the config's own later), merged into one list per kind. The first source to offer a prompt name,
// a resource URI or a URI template serves it; later ones are reported as clashes.

import { UriTemplate, type GetPromptResult, type Prompt, type ReadResourceResult, type Resource, type ResourceTemplateType as ResourceTemplate } from "@modelcontextprotocol/server";
import type { CallContext } from "./context.js";

export interface OfferSource {
  /** Where the offers come from, for messages: `module "memo"`. */
  label: string;
  prompts: Prompt[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
  getPrompt(name: string, args: Record<string, string> | undefined, ctx: CallContext): Promise<GetPromptResult>;
  readResource(uri: string, ctx: CallContext): Promise<ReadResourceResult>;
}

export interface Merged<T> {
  items: T[];
  clashes: string[];
}

function merge<T>(sources: OfferSource[], pick: (s: OfferSource) => T[], key: (item: T) => string, kind: string): Merged<T> {
  const owner = new Map<string, OfferSource>();
  const items: T[] = [];
  const clashes: string[] = [];
  for (const source of sources) {
    for (const item of pick(source)) {
      const k = key(item);
      const first = owner.get(k);
      if (first) {
        if (first !== source) clashes.push(`${kind} "${k}" from ${source.label} clashes with ${first.label}, which keeps it`);
        continue;
      }
      owner.set(k, source);
      items.push(item);
    }
  }
  return { items, clashes };
}

export const mergePrompts = (sources: OfferSource[]) => merge(sources, (s) => s.prompts, (p) => p.name, "prompt");
export const mergeResources = (sources: OfferSource[]) => merge(sources, (s) => s.resources, (r) => r.uri, "resource");
export const mergeResourceTemplates = (sources: OfferSource[]) =>
  merge(sources, (s) => s.resourceTemplates, (t) => t.uriTemplate, "resource template");

export function promptSource(sources: OfferSource[], name: string): OfferSource | undefined {
  return sources.find((s) => s.prompts.some((p) => p.name === name));
}

/** The source that serves a URI: one listing it exactly, else the first whose template matches it. */
export function resourceSource(sources: OfferSource[], uri: string): OfferSource | undefined {
  return (
    sources.find((s) => s.resources.some((r) => r.uri === uri)) ??
    sources.find((s) => s.resourceTemplates.some((t) => matches(t.uriTemplate, uri)))
  );
}

function matches(template: string, uri: string): boolean {
  try {
    return new UriTemplate(template).match(uri) !== null;
  } catch {
    return false; // a malformed template matches nothing
  }
}
