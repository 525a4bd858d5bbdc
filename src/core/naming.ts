// Tool names must satisfy the strictest client we know of: Claude's ^[a-zA-Z0-9_-]{1,64}$.

export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export function isValidToolName(name: string): boolean {
  return TOOL_NAME.test(name);
}

/** Turns an export name into a valid tool name; the same input always gives the same name. */
export function toolNameFromExport(exportName: string): string {
  const cleaned = exportName.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64);
  return cleaned.length > 0 ? cleaned : "tool";
}

/**
 * A module name from another tool's plugin name. Module names follow the tool-name rule, so the
 * admin API can name them in URLs and a prefix made from one is a valid start of a tool name.
 */
export function moduleNameFrom(name: string): string {
  return isValidToolName(name) ? name : name.replace(/[^a-zA-Z0-9_-]+/g, "-").slice(0, 64) || "module";
}

const STRING_POINTER = /^(ptr|data|buf|buffer|str|string|text|input|msg|message|bytes|s|p)$|_ptr$|^ptr_|_buf$|_data$|_str$/i;
const STRING_LENGTH = /^(len|length|size|n|count|nbytes|buf_len|data_len|str_len)$|_len$|_length$|_size$|^len_/i;

/** True when a (i32, i32) parameter pair is named like a pointer and a byte length. */
export function looksLikeStringParams(first: string | undefined, second: string | undefined): boolean {
  if (!first || !second) return false;
  return STRING_POINTER.test(first) && STRING_LENGTH.test(second);
}

const DEFAULT_PARAM_NAMES = "abcdefghijklmnopqrstuvwxyz";

/** JSON property names for numeric parameters: the module's own names when valid, else a, b, c... */
export function numericParamNames(names: (string | undefined)[]): string[] {
  const chosen: string[] = [];
  names.forEach((name, i) => {
    const fallback = i < DEFAULT_PARAM_NAMES.length ? DEFAULT_PARAM_NAMES[i]! : `arg${i}`;
    const candidate = name && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !chosen.includes(name) ? name : fallback;
    chosen.push(chosen.includes(candidate) ? `arg${i}` : candidate);
  });
  return chosen;
}

/**
 * Why `prefix + name` cannot be served, or undefined when it can. A `tool_prefix` that pushes a
 * good name past 64 characters is named as the cause.
 */
export function toolNameProblem(name: string, prefix = ""): string | undefined {
  const full = prefix + name;
  if (isValidToolName(full)) return undefined;
  if (prefix && isValidToolName(name)) {
    return `tool name "${full}" (tool_prefix "${prefix}" + "${name}") is ${full.length} characters, over the 64 allowed; shorten tool_prefix or rename the tool with [[modules.tools]] name`;
  }
  return `tool name "${full}" is not allowed: use 1-64 letters, digits, "_" or "-"`;
}

/** A test for `hidden_tools`: true for a name that one of the regular expressions matches in full. */
export function hiddenToolMatcher(patterns: readonly string[]): (name: string) => boolean {
  const compiled = patterns.map((p) => new RegExp(`^(?:${p})$`, "u"));
  return (name) => compiled.some((re) => re.test(name));
}
