// The admin API on the --http listener: list, upload, replace and remove modules at run time, at
// /admin/modules, and at WASImancer's routes (/upload-plugin, /update-plugin, /remove-plugin/NAME)
// so its publish scripts work unchanged. The admin token is checked before anything of a body is
// read or stored; a client that asked (Expect: 100-continue) is told to send the body only then.

import { rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { log } from "../core/log.js";
import type { ToolHost } from "../server/host.js";
import { checkModuleName, DefinitionError, parseModuleField, parsePluginData } from "./definition.js";
import { receiveUpload, UploadError, type Upload } from "./multipart.js";
import { AdminError, listModules, putModule, removeModule } from "./operations.js";
import { fileStore, type ManagedStore } from "./store.js";

export const ADMIN_MODULES_PATH = "/admin/modules";

const MiB = 1024 * 1024;
/** The definition fields are small JSON documents. */
const MAX_FIELD_BYTES = MiB;
/** Room for the fields and the multipart framing around the file. */
const FORM_OVERHEAD = 2 * MiB;
const FILE_FIELDS = ["wasm", "wasmFile"];

type Form = "admin" | "wasimancer";
type Route =
  | { op: "list" }
  | { op: "show"; name: string }
  | { op: "put"; mode: "create" | "replace"; form: Form; name?: string }
  | { op: "remove"; name: string };

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

export function isAdminPath(pathname: string): boolean {
  return (
    pathname === "/admin" ||
    pathname.startsWith("/admin/") ||
    pathname === "/upload-plugin" ||
    pathname === "/update-plugin" ||
    pathname.startsWith("/remove-plugin/")
  );
}

export type AdminHandler = (req: IncomingMessage, res: ServerResponse, pathname: string) => Promise<void>;

/** Whether a request's Authorization header carries the admin token. */
export type TokenCheck = (header: string | undefined) => "ok" | "missing" | "wrong";

export function adminRouter(host: ToolHost, checkToken: TokenCheck, store: ManagedStore = fileStore): AdminHandler {
  return async (req, res, pathname) => {
    // Node discards whatever of a refused body still arrives (nothing is stored), and closes the
    // connection itself when a client still waits for 100-continue.
    const refuse = (err: AdminError | DefinitionError | UploadError) => {
      const status = err instanceof AdminError || err instanceof UploadError ? err.status : 400;
      send(res, status, { error: err.message }, err instanceof AdminError ? err.headers : {});
    };

    const verdict = checkToken(req.headers.authorization);
    if (verdict !== "ok") {
      return refuse(new AdminError(403, verdict === "missing" ? "Forbidden: send Authorization: Bearer <admin token>" : "Forbidden: wrong admin token"));
    }
    const route = match(req.method ?? "", pathname);
    if (route instanceof AdminError) return refuse(route);

    try {
      const answer = await run(route, req, () => {
        if (/^100-continue$/i.test(req.headers.expect ?? "")) res.writeContinue();
      });
      send(res, answer.status, answer.body);
    } catch (err) {
      if (err instanceof AdminError || err instanceof DefinitionError || err instanceof UploadError) return refuse(err);
      log.error(`admin ${req.method} ${pathname}: ${(err as Error).stack ?? (err as Error).message}`);
      refuse(new AdminError(500, `internal error: ${(err as Error).message}`));
    }
  };

  async function run(route: Route, req: IncomingMessage, sendBody: () => void): Promise<Answer> {
    switch (route.op) {
      case "list":
        return { status: 200, body: listModules(host) };
      case "show": {
        const name = decodeName(route.name);
        const module = listModules(host).modules.find((m) => m.name === name);
        if (!module) throw new AdminError(404, `no module "${name}" is served`);
        return { status: 200, body: { module } };
      }
      case "remove": {
        const name = decodeName(route.name);
        await removeModule(host, store, name);
        return { status: 200, body: { message: `module "${name}" removed` } };
      }
      case "put":
        return put(route, req, sendBody);
    }
  }

  async function put(route: Extract<Route, { op: "put" }>, req: IncomingMessage, sendBody: () => void): Promise<Answer> {
    const nameFromUrl = route.name === undefined ? undefined : decodeName(route.name);
    const limits = { maxFileBytes: host.config.server.max_upload_mb * MiB, maxFieldBytes: MAX_FIELD_BYTES };
    if (Number(req.headers["content-length"]) > limits.maxFileBytes + FORM_OVERHEAD) {
      throw new AdminError(413, `the upload is larger than the ${host.config.server.max_upload_mb} MB limit ([server] max_upload_mb)`, { connection: "close" });
    }
    if (!isMultipart(req)) throw new AdminError(415, 'send the module as multipart/form-data (curl -F "wasm=@module.wasm" -F "module=...")');
    sendBody();
    const upload = await receiveUpload(req, host.config.managed.dir, FILE_FIELDS, limits);
    try {
      const definitionField = route.form === "admin" ? "module" : "pluginData";
      const unexpected = [...upload.fields.keys()].find((f) => f !== definitionField);
      if (unexpected) throw new AdminError(400, `unexpected form field "${unexpected}"; expected "${definitionField}" and the file`);
      if (route.mode === "create" && !upload.file) throw new AdminError(400, `the .wasm file is required (form field "${route.form === "admin" ? "wasm" : "wasmFile"}")`);
      return route.form === "admin" ? await putAdmin(route, upload, nameFromUrl) : await putWasimancer(route, upload);
    } finally {
      // Moved into place on success; otherwise nothing of the upload stays.
      if (upload.file) await rm(upload.file.path, { force: true });
    }
  }

  async function putAdmin(route: Extract<Route, { op: "put" }>, upload: Upload, nameFromUrl: string | undefined): Promise<Answer> {
    const text = upload.fields.get("module");
    if (text === undefined && route.mode === "create") throw new AdminError(400, 'the module\'s definition is required: form field "module" with JSON like {"name": "calc"}');
    const table = text === undefined ? undefined : parseModuleField(text, nameFromUrl);
    const name = table?.name ?? nameFromUrl!;
    const module = await putModule(host, store, { name, table, mode: route.mode, upload: upload.file });
    return { status: route.mode === "create" ? 201 : 200, body: { message: `module "${name}" ${route.mode === "create" ? "added" : "replaced"}`, module } };
  }

  async function putWasimancer(route: Extract<Route, { op: "put" }>, upload: Upload): Promise<Answer> {
    const text = upload.fields.get("pluginData");
    if (text === undefined) throw new AdminError(400, 'form field "pluginData" is required (the plugin\'s JSON: name, functions, ...)');
    const { value: table, notes } = parsePluginData(text);
    const module = await putModule(host, store, { name: table.name, table, mode: route.mode, upload: upload.file, onlyListed: true });
    for (const note of notes) log.info(`admin: ${note}`);
    // WASImancer answers 200 to both, and its scripts check for exactly that.
    return { status: 200, body: { message: `plugin "${table.name}" ${route.mode === "create" ? "uploaded" : "updated"}`, module, ...(notes.length ? { notes } : {}) } };
  }
}

function match(method: string, pathname: string): Route | AdminError {
  const notAllowed = (allow: string) => new AdminError(405, `method ${method} not allowed here`, { allow });
  if (pathname === ADMIN_MODULES_PATH) {
    if (method === "GET") return { op: "list" };
    if (method === "POST") return { op: "put", mode: "create", form: "admin" };
    return notAllowed("GET, POST");
  }
  if (pathname.startsWith(`${ADMIN_MODULES_PATH}/`)) {
    const name = pathname.slice(ADMIN_MODULES_PATH.length + 1);
    if (method === "GET") return { op: "show", name };
    if (method === "PUT") return { op: "put", mode: "replace", form: "admin", name };
    if (method === "DELETE") return { op: "remove", name };
    return notAllowed("GET, PUT, DELETE");
  }
  if (pathname === "/upload-plugin") return method === "POST" ? { op: "put", mode: "create", form: "wasimancer" } : notAllowed("POST");
  if (pathname === "/update-plugin") return method === "PUT" ? { op: "put", mode: "replace", form: "wasimancer" } : notAllowed("PUT");
  if (pathname.startsWith("/remove-plugin/")) {
    return method === "DELETE" ? { op: "remove", name: pathname.slice("/remove-plugin/".length) } : notAllowed("DELETE");
  }
  return new AdminError(404, `not found: the admin API serves ${ADMIN_MODULES_PATH} and ${ADMIN_MODULES_PATH}/NAME`);
}

function decodeName(segment: string): string {
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    throw new AdminError(400, `"${segment}" is not a valid URL path segment`);
  }
  return checkModuleName(name);
}

function isMultipart(req: IncomingMessage): boolean {
  return /^multipart\/form-data\b/i.test(req.headers["content-type"] ?? "");
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}
