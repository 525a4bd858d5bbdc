import { z } from "zod";
import { parseReference, ReferenceError } from "../core/oci-reference.js";

// The shape of wasmforge.toml. Every object is strict: an unknown key is a typo until proven otherwise.

export const PATTERNS = [
  "i32_i32_to_i32",
  "no_params_to_i32",
  "numeric",
  "ptr_len_to_i32",
  "ptr_len_to_string",
  "no_params_to_string",
  "extism",
] as const;
export type PatternName = (typeof PATTERNS)[number];

const sha256 = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, "expected 64 hexadecimal characters (a SHA-256 digest)")
  .transform((s) => s.toLowerCase());

const positiveInt = z.number().int().positive();

/** Timers in Node hold at most 2^31-1 ms; a larger deadline would fire at once. */
const milliseconds = positiveInt.max(2_147_483_647, "expected at most 2147483647 (about 24.8 days): a longer deadline cannot be timed");
/** A 32-bit WebAssembly memory holds at most 65536 pages of 64 KiB. */
const memoryMb = positiveInt.max(4096, "expected at most 4096: a 32-bit WebAssembly memory holds at most 4 GiB");
const outputMb = positiveInt.max(512, "expected at most 512: a result is held in memory as one string");

const jsonSchemaObject = z.record(z.string(), z.unknown());

const argumentSpec = z.strictObject({
  name: z.string().min(1),
  type: z.enum(["string", "number", "integer", "boolean", "object", "array"]).default("string"),
  description: z.string().optional(),
  required: z.boolean().default(true),
});

const toolOverride = z.strictObject({
  function_name: z.string().min(1),
  name: z.string().optional(),
  description: z.string().optional(),
  pattern: z.enum(PATTERNS).optional(),
  input_schema: jsonSchemaObject.optional(),
  arguments: z.array(argumentSpec).optional(),
  hidden: z.boolean().default(false),
  /** Extism functions: "json" passes the arguments object as JSON (default); "text" passes the string argument `input` as it is. */
  input: z.enum(["json", "text"]).optional(),
  timeout_ms: milliseconds.optional(),
});

const localSource = z.strictObject({
  type: z.literal("local"),
  path: z.string().min(1),
});

const httpSource = z.strictObject({
  type: z.literal("http"),
  url: z.string().url(),
  sha256: sha256.optional(),
  checksum: sha256.optional(),
});

/** Why `text` is not an OCI reference, or undefined when it is one. */
function referenceProblem(text: string): string | undefined {
  try {
    parseReference(text);
    return undefined;
  } catch (err) {
    if (err instanceof ReferenceError) return err.message;
    throw err;
  }
}

/** `REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST]`, with or without `oci://`. */
const ociReference = z.string().superRefine((text, ctx) => {
  const problem = referenceProblem(text);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

const ociSource = z.strictObject({
  type: z.literal("oci"),
  reference: ociReference,
  /** The SHA-256 of the module itself: instead of, or beside, the reference's @sha256: manifest digest. */
  sha256: sha256.optional(),
});

/** https:// or http://, or oci://REGISTRY/REPOSITORY… */
const moduleUrl = z.string().superRefine((text, ctx) => {
  const problem = text.startsWith("oci://")
    ? referenceProblem(text)
    : URL.canParse(text)
      ? undefined
      : "expected a URL (https://…, or oci://REGISTRY/REPOSITORY:TAG@sha256:DIGEST)";
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** A regular expression that must match a whole tool name. */
const toolPattern = z.string().min(1).superRefine((pattern, ctx) => {
  try {
    new RegExp(`^(?:${pattern})$`, "u");
  } catch (err) {
    ctx.addIssue({ code: "custom", message: `not a valid regular expression: ${(err as Error).message}` });
  }
});

const TOOL_PREFIX = /^[a-zA-Z0-9_-]{1,63}$/;

export const moduleEntry = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    enabled: z.boolean().default(true),
    source: z.discriminatedUnion("type", [localSource, httpSource, ociSource]).optional(),
    path: z.string().min(1).optional(),
    url: moduleUrl.optional(),
    sha256: sha256.optional(),
    checksum: sha256.optional(),
    tools: z.array(toolOverride).default([]),
    /** Put before the name of every tool the module serves (hyper-mcp names tools `<plugin>-<tool>`). */
    tool_prefix: z.string().regex(TOOL_PREFIX, 'expected 1-63 letters, digits, "_" or "-" (tool names allow only those)').optional(),
    /** Regular expressions; a tool whose name (before tool_prefix) matches one in full is not served. */
    hidden_tools: z.array(toolPattern).default([]),
    timeout_ms: milliseconds.optional(),
    max_memory_mb: memoryMb.optional(),
    /** "fresh": a new instance for every call; "keep": one instance per worker, reused. */
    state: z.enum(["fresh", "keep"]).optional(),
    allowed_hosts: z.array(z.string()).default([]),
    allowed_paths: z.record(z.string(), z.string()).default({}),
    config: z.record(z.string(), z.string()).default({}),
  })
  .superRefine((m, ctx) => {
    const forms = [m.source ? "source" : null, m.path ? "path" : null, m.url ? "url" : null].filter(Boolean);
    if (forms.length === 0) {
      ctx.addIssue({ code: "custom", message: "expected one of `path`, `url` or a [modules.source] table" });
    } else if (forms.length > 1) {
      ctx.addIssue({ code: "custom", message: `give only one of ${forms.map((f) => `\`${f}\``).join(", ")}` });
    }
    if ((m.sha256 || m.checksum) && !m.url) {
      ctx.addIssue({ code: "custom", path: ["sha256"], message: "a pin belongs to a `url` source" });
    }
  });

const serverSection = z.strictObject({
  name: z.string().default("wasmforge"),
  version: z.string().optional(),
  timeout_ms: milliseconds.default(10_000),
  max_memory_mb: memoryMb.default(256),
  max_output_mb: outputMb.default(16),
  pool_size: positiveInt.optional(),
  allow_unpinned: z.boolean().default(false),
  allow_insecure_http: z.boolean().default(false),
  max_download_mb: positiveInt.default(64),
  /** Per download attempt, from connecting to the last byte. */
  download_timeout_ms: milliseconds.default(120_000),
  /** How long `serve` waits for downloads at start or reload before serving without them (they join later). */
  download_wait_ms: z.number().int().nonnegative().max(2_147_483_647).default(2000),
  max_message_kb: positiveInt.default(10 * 1024),
  /** A TCP connection holding an unfinished message that makes no progress for this long is closed. */
  message_idle_ms: milliseconds.default(30_000),
  /** Largest HTTP request body (`serve --http`); larger ones get 413. */
  max_body_kb: positiveInt.default(4 * 1024),
  /** 2025-era HTTP sessions open at once (2026-07-28 requests hold none). */
  max_sessions: positiveInt.default(1000),
  /** Signs the state of calls that ask their client across rounds; replicas behind one address must share it. */
  request_state_key: z.string().min(32, "expected at least 32 characters").optional(),
  token: z.string().min(1).optional(),
  admin_token: z.string().min(1).optional(),
  /** Where modules uploaded through the admin API are stored (default: .wasmforge-managed/ beside the config). */
  managed_dir: z.string().min(1).optional(),
  /** `GET /metrics` without the client token (for a scraper on a private network). */
  metrics_public: z.boolean().default(false),
  /** On SIGTERM, how long in-flight calls may take to finish before the process exits anyway. */
  drain_ms: milliseconds.default(10_000),
  /** Largest module the admin API accepts; larger uploads get 413. */
  max_upload_mb: positiveInt.default(64),
  allowed_hosts: z.array(z.string()).default([]),
});

const cacheSection = z.strictObject({
  directory: z.string().optional(),
  max_size_mb: positiveInt.optional(),
});

/** Several replicas serving one config, sharing run-time changes through Redis. Off unless set. */
const clusterSection = z.strictObject({
  /** redis://[user:password@]host:port[/db]; the admin API's changes are stored there once. */
  redis_url: z
    .string()
    .refine((s) => /^rediss?:\/\//.test(s) && URL.canParse(s), "expected a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379")
    .optional(),
  /** Prefix of every key and channel, so deployments can share one Redis. */
  namespace: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "expected 1-64 letters, digits, _ . or -").default("wasmforge"),
  /** This replica's name: it prefixes the 2025 session ids it issues, so a load balancer can route them back. */
  replica_id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "expected 1-32 lowercase letters, digits or - (starting with a letter or digit)").optional(),
});

const absoluteUri = z.string().refine((s) => URL.canParse(s), "expected an absolute URI, e.g. docs://readme or file:///notes.txt");

const resourceEntry = z
  .strictObject({
    name: z.string().min(1),
    uri: absoluteUri,
    description: z.string().optional(),
    mime_type: z.string().min(1).optional(),
    text: z.string().optional(),
    /** A file read on each request, relative to the config. */
    path: z.string().min(1).optional(),
  })
  .superRefine((r, ctx) => {
    if ((r.text === undefined) === (r.path === undefined)) {
      ctx.addIssue({ code: "custom", message: "give exactly one of `text` or `path`" });
    }
  });

const resourceTemplateEntry = z.strictObject({
  name: z.string().min(1),
  /** RFC 6570 level 1, e.g. greet://{first}/{last}. */
  uri_template: z.string().min(1),
  description: z.string().optional(),
  mime_type: z.string().min(1).optional(),
  /** The content; {{variable}} is replaced by the variable's value from the URI. */
  text: z.string(),
});

const promptEntry = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  arguments: z
    .array(z.strictObject({ name: z.string().min(1), description: z.string().optional(), required: z.boolean().default(false) }))
    .default([]),
  /** {{argument}} in a message's text is replaced by the argument's value. */
  messages: z.array(z.strictObject({ role: z.enum(["user", "assistant"]), text: z.string() })).min(1),
});

export const configSchema = z.strictObject({
  server: serverSection.prefault({}),
  cache: cacheSection.prefault({}),
  cluster: clusterSection.prefault({}),
  modules: z.array(moduleEntry).default([]),
  resources: z.array(resourceEntry).default([]),
  resource_templates: z.array(resourceTemplateEntry).default([]),
  prompts: z.array(promptEntry).default([]),
});

/** The file the admin API writes beside the config: only modules. */
export const managedSchema = z.strictObject({
  modules: z.array(moduleEntry).default([]),
});

export type RawConfig = z.infer<typeof configSchema>;
export type RawModule = z.infer<typeof moduleEntry>;
export type ToolOverride = z.infer<typeof toolOverride>;
export type ArgumentSpec = z.infer<typeof argumentSpec>;
export type ServerSettings = z.infer<typeof serverSection>;
export type RawResource = z.infer<typeof resourceEntry>;
export type RawResourceTemplate = z.infer<typeof resourceTemplateEntry>;
export type RawPrompt = z.infer<typeof promptEntry>;
export type CacheSettings = z.infer<typeof cacheSection>;
export type ClusterSettings = z.infer<typeof clusterSection>;
