// What an upload says about its module: the admin API's `module` field (a [[modules]] table as
// JSON) or WASImancer's `pluginData`. Both become a module table without a path: where the bytes
// are kept is always the server's choice, never the request's.

import { z } from "zod";
import { formatKeyPath } from "../core/format.js";
import { moduleEntry } from "../config/schema.js";
import { pluginToModule, wasimancerPlugin, type Converted, type ModuleTable } from "../config/wasimancer.js";
import { isValidToolName } from "../core/naming.js";

/** A definition refused; the message says which field and why. */
export class DefinitionError extends Error {}

/** Keys of a [[modules]] table an upload may not set, and why. */
const REFUSED: Record<string, string> = {
  path: "the server stores uploaded modules under a name it chooses",
  url: "upload the module's bytes instead",
  source: "upload the module's bytes instead",
  sha256: "the server computes it from the upload",
  checksum: "the server computes it from the upload",
  enabled: "remove the module instead (DELETE)",
  allowed_paths: "giving a module host directories is done in the config file, not over the network",
};

// The [[modules]] fields without the refused ones (checked first, with their reasons).
const definitionSchema = z
  .strictObject(moduleEntry.shape)
  .omit({ path: true, url: true, source: true, sha256: true, checksum: true, enabled: true, allowed_paths: true })
  .extend({ name: moduleEntry.shape.name.optional() });
type Definition = z.input<typeof definitionSchema>;

/** Module names follow the tool-name rule: they appear in URLs and in stored file names. */
export function checkModuleName(name: string): string {
  if (!isValidToolName(name)) {
    throw new DefinitionError(`module name "${name}" is not allowed: use 1-64 letters, digits, "_" or "-"`);
  }
  return name;
}

function parseJson(field: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DefinitionError(`field "${field}" is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * The `module` field. `name` may be left out when the URL names the module (PUT); when both are
 * given they must agree.
 */
export function parseModuleField(text: string, nameFromUrl?: string): ModuleTable {
  const json = parseJson("module", text);
  if (json && typeof json === "object" && !Array.isArray(json)) {
    const refused = Object.keys(json).find((key) => Object.hasOwn(REFUSED, key));
    if (refused) throw new DefinitionError(`module.${refused}: not accepted in an upload: ${REFUSED[refused]}`);
  }
  const parsed = definitionSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `module${i.path.length ? `.${formatKeyPath(i.path)}` : ""}: ${i.message}`);
    throw new DefinitionError(issues.join("; "));
  }
  // Keep what the client wrote (not zod's output with every default filled in): that is what
  // the managed file stores, as a person would have written it.
  const definition = json as Definition;
  const name = definition.name ?? nameFromUrl;
  if (name === undefined) throw new DefinitionError('module.name: required (the module\'s name, e.g. "calc")');
  if (nameFromUrl !== undefined && name !== nameFromUrl) {
    throw new DefinitionError(`module.name "${name}" does not match the module named in the URL ("${nameFromUrl}")`);
  }
  return { ...definition, name: checkModuleName(name) };
}

/** WASImancer's `pluginData`; its `path` (and any `dir`) is ignored. */
export function parsePluginData(text: string): Converted<ModuleTable> {
  const parsed = wasimancerPlugin.safeParse(parseJson("pluginData", text));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `pluginData${i.path.length ? `.${formatKeyPath(i.path)}` : ""}: ${i.message}`);
    throw new DefinitionError(issues.join("; "));
  }
  checkModuleName(parsed.data.name);
  return pluginToModule(parsed.data);
}
