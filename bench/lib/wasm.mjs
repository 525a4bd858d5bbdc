// A tiny WebAssembly module built byte by byte, so the reload benchmark can write a new version of a
// module without a toolchain: (module (func (export "version") (result i32) (i32.const N))).

function sleb128(value) {
  const bytes = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

const section = (id, payload) => [id, payload.length, ...payload];

export function versionModule(n) {
  const name = [..."version"].map((c) => c.charCodeAt(0));
  const body = [0x00, 0x41, ...sleb128(n), 0x0b];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [0x01, 0x60, 0x00, 0x01, 0x7f]),
    ...section(3, [0x01, 0x00]),
    ...section(7, [0x01, name.length, ...name, 0x00, 0x00]),
    ...section(10, [0x01, body.length, ...body]),
  ]);
}
