// Tar archives for the tests of OCI layers, built with tar-stream; and one that lies about a size.

import { pack } from "tar-stream";

/** A tar archive of `entries`: [name, bytes] for files, [name, target, "symlink"] for links. */
export async function tarOf(entries: [string, Uint8Array | string, "file" | "symlink"?][]): Promise<Buffer> {
  const archive = pack();
  for (const [name, body, type = "file"] of entries) {
    if (type === "symlink") archive.entry({ name, type, linkname: String(body) });
    else archive.entry({ name }, Buffer.from(body));
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A ustar header that claims `size` bytes for `name`, followed by no data at all: a layer bomb. */
export function lyingTarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, "latin1");
  header.write("0000644\0", 100, "latin1");
  header.write("0000000\0", 108, "latin1");
  header.write("0000000\0", 116, "latin1");
  header.write(`${size.toString(8).padStart(11, "0")}\0`, 124, "latin1");
  header.write("00000000000\0", 136, "latin1");
  header.write("        ", 148, "latin1"); // the checksum is computed with its own field as spaces
  header.write("0", 156, "latin1");
  header.write("ustar\u000000", 257, "latin1");
  const sum = header.reduce((a, b) => a + b, 0);
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return Buffer.concat([header, Buffer.alloc(1024)]);
}
