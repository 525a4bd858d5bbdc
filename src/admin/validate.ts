// Whether an uploaded module may be served, decided before anything is swapped in: it compiles,
// its tools are discovered (asking the plugin, for those that describe themselves), its definition
// fits its exports, and none of its tool names is taken by another module.

import type { Config } from "../config/load.js";
import { assembleCatalog, loadModules, type Catalog, type LoadedModule } from "../server/catalog.js";

/** A module that may not be served; the message says why and what to change. */
export class ValidationError extends Error {}

/** Loads module `name` of the candidate config on its own and checks it against what is served. */
export async function checkModule(candidate: Config, name: string, served: Catalog): Promise<LoadedModule> {
  const spec = candidate.modules.find((m) => m.name === name);
  if (!spec) throw new ValidationError(`module "${name}" is not in the resulting config`);
  const { modules, failures } = await loadModules({ ...candidate, modules: [spec] }, served);
  if (failures[0]) throw new ValidationError(`module "${name}" does not load: ${failures[0].error}`);
  const loaded = modules[0]!;
  const { discovery } = loaded;
  if (discovery.warnings.length) {
    throw new ValidationError(`module "${name}": its definition does not fit the module: ${discovery.warnings.join("; ")}`);
  }
  if (discovery.tools.length === 0) {
    const why = discovery.decisions.map((d) => `${d.export}${d.signature}: ${d.rule}`).join("; ");
    throw new ValidationError(`module "${name}" offers no tools${why ? ` (${why})` : " (it exports no functions)"}`);
  }
  const own = assembleCatalog([loaded], []);
  if (own.failures[0]) throw new ValidationError(own.failures[0].error);
  for (const tool of discovery.tools) {
    const other = served.tools.get(tool.name);
    if (other && other.module.spec.name !== name) {
      throw new ValidationError(
        `tool name "${tool.name}" (export "${tool.function}") is already served by module "${other.module.spec.name}"; ` +
          `give the export another tool name in the definition (e.g. "name": "${name}_${tool.function}" for function_name "${tool.function}")`,
      );
    }
  }
  return loaded;
}
