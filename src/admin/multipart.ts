// Receives a multipart/form-data upload with busboy: text fields into memory (each capped), the
// one file part streamed to a fresh temp file while its SHA-256 is computed. Nothing is buffered
// without a bound, and on any failure the temp file is gone before the promise settles.

import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import busboy from "busboy";

export interface UploadLimits {
  maxFileBytes: number;
  maxFieldBytes: number;
}

export interface ReceivedFile {
  field: string;
  /** The temp file holding the bytes; the caller moves or removes it. */
  path: string;
  size: number;
  sha256: string;
}

export interface Upload {
  fields: Map<string, string>;
  file?: ReceivedFile;
}

/** An upload refused; `status` is the HTTP status to answer with. */
export class UploadError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

/** At most this many text fields; the forms here have one or two. */
const MAX_FIELDS = 8;

/** Temp files start with this, so they are never taken for a module. */
const TEMP_PREFIX = ".upload-";

/**
 * Reads the whole body of `req`. `fileFields` are the accepted names of the file part; `dir`
 * (created if missing) receives the temp file.
 */
export async function receiveUpload(req: IncomingMessage, dir: string, fileFields: string[], limits: UploadLimits): Promise<Upload> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      limits: { fileSize: limits.maxFileBytes, files: 1, fields: MAX_FIELDS, parts: MAX_FIELDS + 1, fieldSize: limits.maxFieldBytes },
    });
  } catch (err) {
    throw new UploadError(415, `expected a multipart/form-data body: ${(err as Error).message}`);
  }
  await mkdir(dir, { recursive: true });

  return new Promise<Upload>((resolve, reject) => {
    const fields = new Map<string, string>();
    let file: ReceivedFile | undefined;
    let writing: Promise<void> | undefined;
    let tempPath: string | undefined;
    let fileStream: Readable | undefined;
    let failed = false;

    const fail = (error: UploadError) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      // Discard the rest of the body so the client can read our answer; nothing more is kept.
      req.resume();
      // Ends the write too (a client gone mid-file would otherwise leave it waiting forever).
      fileStream?.destroy();
      void (writing ?? Promise.resolve())
        .catch(() => undefined)
        .then(() => (tempPath ? rm(tempPath, { force: true }) : undefined))
        .finally(() => reject(error));
    };

    parser.on("field", (name, value, info) => {
      if (info.valueTruncated) return fail(new UploadError(413, `field "${name}" is larger than ${limits.maxFieldBytes} bytes`));
      fields.set(name, value);
    });

    parser.on("file", (name, stream: Readable) => {
      if (failed) return void stream.resume();
      if (!fileFields.includes(name)) {
        stream.resume();
        return fail(new UploadError(400, `unexpected file field "${name}"; send the module as ${fileFields.map((f) => `"${f}"`).join(" or ")}`));
      }
      const path = join(dir, `${TEMP_PREFIX}${randomUUID()}.part`);
      tempPath = path;
      fileStream = stream;
      const hash = createHash("sha256");
      let size = 0;
      stream.on("data", (chunk: Buffer) => {
        size += chunk.length;
        hash.update(chunk);
      });
      stream.on("limit", () => {
        fail(new UploadError(413, `the module is larger than the ${limits.maxFileBytes}-byte limit ([server] max_upload_mb)`));
      });
      writing = pipeline(stream, createWriteStream(path, { flags: "wx" })).then(() => {
        file = { field: name, path, size, sha256: hash.digest("hex") };
      });
      writing.catch((err: Error) => fail(new UploadError(400, `the upload did not arrive whole: ${err.message}`)));
    });

    parser.on("filesLimit", () => fail(new UploadError(400, "send one module file per request")));
    parser.on("fieldsLimit", () => fail(new UploadError(400, `too many fields (at most ${MAX_FIELDS})`)));
    parser.on("partsLimit", () => fail(new UploadError(400, "too many parts in the form")));
    parser.on("error", (err: Error) => fail(new UploadError(400, `malformed multipart body: ${err.message}`)));
    parser.on("close", () => {
      if (failed) return;
      void (writing ?? Promise.resolve()).then(
        () => {
          if (!failed) resolve({ fields, file });
        },
        () => undefined, // reported by the catch above
      );
    });
    req.once("close", () => {
      if (!req.complete) fail(new UploadError(400, "the client closed the connection before the upload was complete"));
    });
    req.pipe(parser);
  });
}
