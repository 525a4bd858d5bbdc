// Registry credentials and the registry auth handshake. Credentials come from Docker's own config
// (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`, its `auths`), so `docker login` is
// all a user needs. A 401 names how to authenticate in `WWW-Authenticate`: `Basic`, or `Bearer`
// with a token endpoint (ghcr.io, Docker Hub, distribution's token auth). Secrets never reach a
// log line or an error message.

import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { log } from "../core/log.js";
import { checkUrl, fetchOnce, withRetries, type Limits } from "./download.js";

export interface Credentials {
  username: string;
  password: string;
  /** The config file they came from (for messages). */
  file: string;
}

/** What the Docker config says about a registry. */
export interface CredentialLookup {
  credentials?: Credentials;
  /** Set when the config hands this registry to a credential helper, which WasmForge does not run. */
  helper?: string;
  /** The config file that was read, if one exists. */
  file?: string;
}

const dockerConfig = z.looseObject({
  auths: z
    .record(
      z.string(),
      z.looseObject({
        auth: z.string().optional(),
        username: z.string().optional(),
        password: z.string().optional(),
        identitytoken: z.string().optional(),
      }),
    )
    .optional(),
  credsStore: z.string().optional(),
  credHelpers: z.record(z.string(), z.string()).optional(),
});

export function dockerConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(homedir(), ".docker"), "config.json");
}

/** `https://index.docker.io/v1/`, `ghcr.io`, `http://localhost:5000` → the host they name. */
function keyHost(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, "").split("/")[0]!.toLowerCase();
}

const DOCKER_HUB = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

function sameRegistry(key: string, registry: string): boolean {
  const host = keyHost(key);
  const wanted = registry.toLowerCase();
  return host === wanted || (DOCKER_HUB.has(host) && DOCKER_HUB.has(wanted));
}

/** The credentials Docker's config holds for `registry` (as written in references: `ghcr.io`, `localhost:5000`). */
export function findCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): CredentialLookup {
  const file = dockerConfigFile(env);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return {};
  }
  let parsed: z.infer<typeof dockerConfig>;
  try {
    const result = dockerConfig.safeParse(JSON.parse(text));
    if (!result.success) throw new Error(result.error.issues[0]?.message ?? "unexpected shape");
    parsed = result.data;
  } catch (err) {
    log.warn(`${file}: cannot read Docker's config (${(err as Error).message}); registries are contacted without credentials`);
    return { file };
  }
  for (const [key, entry] of Object.entries(parsed.auths ?? {})) {
    if (!sameRegistry(key, registry)) continue;
    let username = entry.username;
    let password = entry.password;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon > 0) {
        username = decoded.slice(0, colon);
        password = decoded.slice(colon + 1);
      }
    }
    if (username && password) return { credentials: { username, password, file }, file };
  }
  const helper = Object.entries(parsed.credHelpers ?? {}).find(([key]) => sameRegistry(key, registry))?.[1] ?? parsed.credsStore;
  return { file, ...(helper ? { helper } : {}) };
}

export interface Challenge {
  /** Lowercase: `basic`, `bearer`. */
  scheme: string;
  /** Parameter names lowercase, values unquoted. */
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

/**
 * The challenges in a `WWW-Authenticate` value (RFC 9110 §11.6.1): `Bearer realm="…",service="…"`,
 * several challenges separated by commas, quoted strings with backslash escapes.
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let i = 0;
  const skip = (chars: RegExp) => {
    while (i < header.length && chars.test(header[i]!)) i++;
  };
  const token = () => {
    const start = i;
    while (i < header.length && TOKEN_CHAR.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  while (i < header.length) {
    skip(/[\s,]/);
    const name = token();
    if (!name) {
      i++; // not a token character: skip it rather than loop
      continue;
    }
    skip(/[ \t]/);
    if (header[i] !== "=") {
      challenges.push({ scheme: name.toLowerCase(), params: {} });
      continue;
    }
    i++;
    skip(/[ \t]/);
    let value = "";
    if (header[i] === '"') {
      i++;
      while (i < header.length && header[i] !== '"') {
        if (header[i] === "\\" && i + 1 < header.length) i++;
        value += header[i];
        i++;
      }
      i++;
    } else {
      value = token();
    }
    // A parameter before any scheme belongs to nothing.
    const current = challenges[challenges.length - 1];
    if (current) current.params[name.toLowerCase()] = value;
  }
  return challenges;
}

export function basicAuthorization(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
}

/** Why authentication failed, said so that the user knows what to do. */
export class AuthError extends Error {}

const tokenResponse = z.looseObject({ token: z.string().min(1).optional(), access_token: z.string().min(1).optional() });

/**
 * The `Authorization` value that answers a 401's challenge for pulling `repository`: Basic with
 * the credentials, or a bearer token from the challenge's realm (asked with the credentials, if
 * any, else anonymously).
 */
export async function authorize(challengeHeader: string | undefined, repository: string, lookup: CredentialLookup, limits: Limits): Promise<string> {
  const challenges = parseChallenges(challengeHeader ?? "");
  const bearer = challenges.find((c) => c.scheme === "bearer");
  const basic = challenges.find((c) => c.scheme === "basic");
  const credentials = lookup.credentials;
  if (bearer) {
    const realm = bearer.params.realm;
    if (!realm) throw new AuthError(`the registry's Bearer challenge names no realm (token endpoint): ${challengeHeader}`);
    let url: URL;
    try {
      // Credentials travel only over https (or to this machine).
      url = checkUrl(realm, limits.allowInsecureHttp);
    } catch (err) {
      throw new AuthError(`the registry's token endpoint ${realm}: ${(err as Error).message}`);
    }
    if (bearer.params.service) url.searchParams.set("service", bearer.params.service);
    url.searchParams.set("scope", bearer.params.scope ?? `repository:${repository}:pull`);
    const request = { url, authorization: credentials ? basicAuthorization(credentials) : undefined, headers: { accept: "application/json" }, what: `the token from ${url.origin}` };
    let body: Buffer;
    try {
      ({ body } = await withRetries(() => fetchOnce(request, { ...limits, maxBytes: 1024 * 1024 })));
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 401 || status === 403) {
        throw new AuthError(
          credentials
            ? `the token endpoint ${url.origin}${url.pathname} refused the credentials for ${credentials.username} from ${credentials.file} (${status})`
            : `the token endpoint ${url.origin}${url.pathname} refused an anonymous token (${status}); the repository needs credentials`,
        );
      }
      throw err;
    }
    let parsed: z.infer<typeof tokenResponse>;
    try {
      parsed = tokenResponse.parse(JSON.parse(body.toString("utf8")));
    } catch {
      throw new AuthError(`the token endpoint ${url.origin}${url.pathname} did not answer with a JSON token`);
    }
    const value = parsed.token ?? parsed.access_token;
    if (!value) throw new AuthError(`the token endpoint ${url.origin}${url.pathname} answered without a token`);
    return `Bearer ${value}`;
  }
  if (basic && credentials) return basicAuthorization(credentials);
  throw new AuthError("it needs credentials");
}
