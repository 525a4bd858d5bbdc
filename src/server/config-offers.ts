// Resources, resource templates and prompts written in the config ([[resources]], [[resource_templates]],
// [[prompts]]), served through the same OfferSource contract as plugins' own.

import { readFile } from "node:fs/promises";
import { UriTemplate, type GetPromptResult, type ReadResourceResult } from "@modelcontextprotocol/server";
import type { Config, PromptSpec, ResourceSpec, ResourceTemplateSpec } from "../config/load.js";
import { internalError, invalidParams, resourceNotFound } from "./errors.js";
import type { OfferSource } from "./offers.js";

/** The config's own offers, or undefined when it has none. */
export function configOffers(config: Config): OfferSource | undefined {
  const { resources, resourceTemplates, prompts } = config;
  if (resources.length + resourceTemplates.length + prompts.length === 0) return undefined;
  return {
    label: `the config (${config.file})`,
    resources: resources.map((r) => ({ uri: r.uri, name: r.name, description: r.description, mimeType: r.mimeType })),
    resourceTemplates: resourceTemplates.map((t) => ({ uriTemplate: t.uriTemplate, name: t.name, description: t.description, mimeType: t.mimeType })),
    prompts: prompts.map((p) => ({ name: p.name, description: p.description, arguments: p.arguments })),
    getPrompt: async (name, args) => renderPrompt(prompts.find((p) => p.name === name)!, args ?? {}),
    readResource: async (uri) => {
      const resource = resources.find((r) => r.uri === uri);
      if (resource) return readConfigResource(resource);
      for (const template of resourceTemplates) {
        const variables = new UriTemplate(template.uriTemplate).match(uri);
        if (variables) return renderTemplate(template, uri, variables);
      }
      throw resourceNotFound(`Resource not found: "${uri}"`, uri);
    },
  };
}

/** Replaces {{name}} (and ${name}) with the value of `name`, for the names given. */
export function substitute(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}|\$\{([A-Za-z0-9_.-]+)\}/g, (whole, a?: string, b?: string) => {
    const key = (a ?? b)!;
    return Object.hasOwn(values, key) ? values[key]! : whole;
  });
}

function renderPrompt(prompt: PromptSpec, args: Record<string, string>): GetPromptResult {
  const missing = prompt.arguments.filter((a) => a.required && (args[a.name] === undefined || args[a.name] === ""));
  if (missing.length > 0) {
    throw invalidParams(
      `prompt "${prompt.name}": missing required argument${missing.length > 1 ? "s" : ""} ${missing.map((a) => `"${a.name}"`).join(", ")}`,
    );
  }
  return {
    description: prompt.description,
    messages: prompt.messages.map((m) => ({ role: m.role, content: { type: "text", text: substitute(m.text, args) } })),
  };
}

function renderTemplate(template: ResourceTemplateSpec, uri: string, variables: Record<string, string | string[]>): ReadResourceResult {
  const values = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, decodeURIComponent(Array.isArray(v) ? v.join(",") : v)]));
  // RFC 6570 style {name} is accepted in the text too, for the template's own variables.
  const text = substitute(template.text, values).replace(/\{([A-Za-z0-9_.-]+)\}/g, (whole, key: string) => (Object.hasOwn(values, key) ? values[key]! : whole));
  return { contents: [{ uri, mimeType: template.mimeType ?? "text/plain", text }] };
}

const TEXT_TYPES = /^text\/|[+/](json|xml|yaml|javascript|toml|csv)$/;

async function readConfigResource(resource: ResourceSpec): Promise<ReadResourceResult> {
  const { uri } = resource;
  if (resource.text !== undefined) return { contents: [{ uri, mimeType: resource.mimeType ?? "text/plain", text: resource.text }] };
  let bytes: Buffer;
  try {
    bytes = await readFile(resource.path!);
  } catch (err) {
    throw internalError(`resource "${uri}": cannot read ${resource.path}: ${(err as Error).message}`);
  }
  const text = resource.mimeType && !TEXT_TYPES.test(resource.mimeType) ? undefined : utf8(bytes);
  if (text !== undefined) return { contents: [{ uri, mimeType: resource.mimeType ?? "text/plain", text }] };
  return { contents: [{ uri, mimeType: resource.mimeType ?? "application/octet-stream", blob: bytes.toString("base64") }] };
}

function utf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
