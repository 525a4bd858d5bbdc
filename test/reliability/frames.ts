// Seeded generator of malformed and hostile JSON-RPC frames, each with the answer the server owes it:
// a response carrying the frame's id, a response with id null (nothing usable to reply to), either of
// those, or nothing (a notification, or a response the server did not ask for).

export type Expect = { kind: "id"; id: string | number } | { kind: "null" } | { kind: "idOrNull"; id: string | number } | { kind: "none" };

export interface Frame {
  /** What the frame tests, for failure messages. */
  label: string;
  /** One line, without its newline; never contains byte 0x0A. */
  bytes: Buffer;
  expect: Expect;
}

/** mulberry32: small, fast and the same on every platform. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FrameOptions {
  /** The server's max_message_kb in bytes: oversize frames are made larger than this. */
  maxMessageBytes: number;
  /** Leave out oversize frames (a TCP connection is closed by one, by design). */
  oversize: boolean;
}

/** Tools served by the fuzz config, with arguments of the right shape. */
const TOOLS = ["add", "answer", "scale", "validate_url", "process_response", "count_words", "describe_url", "greeting", "count_vowels", "roll_dice", "greet", "always_fail", "crash", "ok"];

export function makeFrames(seed: number, count: number, options: FrameOptions): Frame[] {
  const random = prng(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  let serial = 0;
  const nextId = (): number => 1_000_000 + serial++;

  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const text = (s: string) => Buffer.from(s);
  const request = (id: unknown, method: string, params?: unknown) => json({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) });

  /** A value of a random JSON type, sometimes nested or extreme. */
  const randomValue = (depth = 0): unknown => {
    switch (int(depth > 2 ? 9 : 11)) {
      case 0: return null;
      case 1: return random() < 0.5;
      case 2: return int(2000) - 1000;
      case 3: return pick([2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, -0, 1e308, -1e-308, 0.5, Number.MAX_SAFE_INTEGER]);
      case 4: return "";
      case 5: return randomString(int(64));
      case 6: return pick(["https://example.com", "http://", "HTTP/1.1 200 OK", "\u0000\u0001", "\ud800", "💥".repeat(20), "a".repeat(5000)]);
      case 7: return JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}');
      case 8: return [];
      case 9: return Array.from({ length: int(4) }, () => randomValue(depth + 1));
      default: return Object.fromEntries(Array.from({ length: int(4) }, () => [randomString(int(8)), randomValue(depth + 1)]));
    }
  };

  function randomString(length: number): string {
    let s = "";
    for (let i = 0; i < length; i++) s += String.fromCharCode(int(0x3000));
    return s;
  }

  /** Random bytes, never a newline; starts with a byte that is not whitespace, so the line is never blank. */
  const garbage = (length: number) => {
    const bytes = Buffer.alloc(length);
    for (let i = 0; i < length; i++) {
      let b = int(256);
      if (b === 0x0a) b = 0x0b;
      bytes[i] = b;
    }
    bytes[0] = 0x80 + int(0x80);
    return bytes;
  };

  const nested = (depth: number, open: string, close: string) => open.repeat(depth) + "1" + close.repeat(depth);

  const generators: [weight: number, make: () => Frame][] = [
    // Not JSON at all.
    [6, () => ({ label: "binary garbage", bytes: garbage(1 + int(300)), expect: { kind: "null" } })],
    [5, () => {
      const whole = JSON.stringify({ jsonrpc: "2.0", id: nextId(), method: "tools/call", params: { name: "add", arguments: { a: 1, b: 2 } } });
      return { label: "truncated JSON", bytes: text(whole.slice(0, 1 + int(whole.length - 2))), expect: { kind: "null" } };
    }],
    [3, () => ({ label: "bad JSON token", bytes: text(pick(["{", "}", "[1,2", "{'a':1}", "NaN", "undefined", '{"jsonrpc":"2.0",}', "\uFEFF{}", "{\"a\":1}}", "tru", "--", '"unterminated'])), expect: { kind: "null" } })],
    // Invalid UTF-8 inside a string of an otherwise valid request: decoded as U+FFFD, answered by id.
    [4, () => {
      const id = nextId();
      const head = Buffer.from(`{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${pick(["count_vowels", "validate_url", "greet"])}","arguments":{"${pick(["text", "data", "name"])}":"`);
      const bad = Buffer.from(pick([[0xc3, 0x28], [0xff, 0xfe], [0xed, 0xa0, 0x80], [0xf0, 0x28, 0x8c, 0x28], [0x80], [0xe2, 0x82]]));
      return { label: "invalid UTF-8 in a string", bytes: Buffer.concat([head, bad, Buffer.from('x"}}}')]), expect: { kind: "id", id } };
    }],
    // JSON, but not JSON-RPC: answered by id when it has a usable one.
    [4, () => ({ label: "JSON that is not an object", bytes: json(pick([1, "x", null, true, [], [1, 2]])), expect: { kind: "null" } })],
    [3, () => {
      const batch = [{ jsonrpc: "2.0", id: nextId(), method: "ping" }, { jsonrpc: "2.0", id: nextId(), method: "ping" }];
      return { label: "batch array", bytes: json(batch), expect: { kind: "null" } };
    }],
    [6, () => {
      const id = nextId();
      const shapes = [
        { jsonrpc: "1.0", id, method: "ping" },
        { id, method: "ping" },
        { jsonrpc: "2.0", id },
        { jsonrpc: "2.0", id, method: 42 },
        { jsonrpc: "2.0", id, method: "tools/list", params: "x" },
        { jsonrpc: "2.0", id, method: "tools/list", params: [1, 2] },
        { jsonrpc: "2.0", id, method: "ping", extra: true },
        { jsonrpc: 2, id, method: "ping" },
      ];
      return { label: "wrong JSON-RPC envelope", bytes: json(pick(shapes)), expect: { kind: "id", id } };
    }],
    [4, () => {
      const id = pick<unknown>([{}, [], true, null, { a: 1 }, [1]]);
      return { label: `unusable id ${JSON.stringify(id)}`, bytes: json({ jsonrpc: "2.0", id, method: "ping" }), expect: { kind: "null" } };
    }],
    // Ids at the edges.
    [3, () => {
      const n = serial++;
      const literal = `${n + 1}${"0".repeat(25)}`;
      return { label: "huge integer id", bytes: text(`{"jsonrpc":"2.0","id":${literal},"method":"ping"}`), expect: { kind: "idOrNull", id: Number(literal) } };
    }],
    [2, () => ({ label: "infinite id", bytes: text(`{"jsonrpc":"2.0","id":1e400,"method":"ping"}`), expect: { kind: "null" } })],
    [2, () => {
      const id = nextId() + 0.5;
      return { label: "fractional id", bytes: json({ jsonrpc: "2.0", id, method: "ping" }), expect: { kind: "idOrNull", id } };
    }],
    [3, () => {
      const id = `${"i".repeat(1 + int(20_000))}-${serial++}`;
      return { label: "long string id", bytes: request(id, "ping"), expect: { kind: "id", id } };
    }],
    [2, () => {
      const id = -nextId();
      return { label: "negative id", bytes: request(id, "tools/list"), expect: { kind: "id", id } };
    }],
    // Deep nesting: inside arguments, as params, and as the whole message.
    [3, () => {
      const id = nextId();
      // Under the size limit: six bytes per level at most.
      const depth = 10 + int((options.maxMessageBytes - 200) / 6);
      const arg = random() < 0.5 ? nested(depth, "[", "]") : nested(depth, '{"a":', "}");
      return {
        label: `nesting ${depth} deep in arguments`,
        bytes: text(`{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"add","arguments":{"a":${arg},"b":1}}}`),
        expect: { kind: "idOrNull", id },
      };
    }],
    [2, () => {
      const depth = 10 + int((options.maxMessageBytes - 200) / 6);
      return { label: `bare nesting ${depth} deep`, bytes: text(random() < 0.5 ? nested(depth, "[", "]") : nested(depth, '{"a":', "}")), expect: { kind: "null" } };
    }],
    // Unknown methods.
    [5, () => {
      const id = nextId();
      const method = pick(["", "tools/destroy", "resources/list", "prompts/get", "sampling/createMessage", "x".repeat(3000), "../../etc/passwd", "__proto__", "constructor", "tools/call/"]);
      return { label: `unknown method ${method.slice(0, 20)}`, bytes: request(id, method, random() < 0.5 ? {} : undefined), expect: { kind: "id", id } };
    }],
    [3, () => ({ label: "unknown notification", bytes: json({ jsonrpc: "2.0", method: pick(["notifications/bogus", "tools/call", "ping", "__proto__"]), params: {} }), expect: { kind: "none" } })],
    [2, () => ({
      label: "cancellation of an unknown request",
      // Never an id another frame uses: cancelling a live request legitimately suppresses its answer.
      bytes: json({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 9_000_000 + serial++, reason: "fuzz" } }),
      expect: { kind: "none" },
    })],
    [2, () => ({ label: "malformed cancellation", bytes: json({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: pick<unknown>([null, {}, [], true, 1.5]), reason: randomValue() } }), expect: { kind: "none" } })],
    // Responses the server never asked for.
    [2, () => ({ label: "unsolicited result", bytes: json({ jsonrpc: "2.0", id: nextId(), result: { value: randomValue() } }), expect: { kind: "none" } })],
    [2, () => ({ label: "unsolicited error", bytes: json({ jsonrpc: "2.0", id: nextId(), error: { code: -1, message: "boom" } }), expect: { kind: "none" } })],
    // Real methods with wrong or hostile params.
    [10, () => {
      const id = nextId();
      const params = pick<unknown>([
        { name: pick(TOOLS), arguments: randomValue() },
        { name: pick(TOOLS), arguments: Object.fromEntries(["a", "b", "data", "text", "name", "value", "factor", "sides", "count", "seed"].map((k) => [k, randomValue()])) },
        { name: randomValue(), arguments: {} },
        { name: pick(TOOLS) },
        { arguments: { a: 1 } },
        {},
        { name: pick(TOOLS), arguments: {}, _meta: { progressToken: randomValue() } },
      ]);
      return { label: "tools/call with hostile params", bytes: request(id, "tools/call", params), expect: { kind: "id", id } };
    }],
    [4, () => {
      const id = nextId();
      const method = pick(["tools/list", "ping", "initialize", "logging/setLevel"]);
      return { label: `${method} with random params`, bytes: request(id, method, random() < 0.7 ? { x: randomValue() } : randomValue() ?? {}), expect: { kind: "idOrNull", id } };
    }],
    // Valid requests, so the stream also carries normal work.
    [6, () => {
      const id = nextId();
      const call = pick([
        { name: "add", arguments: { a: int(1000), b: int(1000) } },
        { name: "validate_url", arguments: { data: randomString(int(100)) } },
        { name: "count_vowels", arguments: { text: randomString(int(200)) } },
        { name: "describe_url", arguments: { data: `https://${randomString(int(30))}` } },
      ]);
      return { label: `valid ${call.name}`, bytes: request(id, "tools/call", call), expect: { kind: "id", id } };
    }],
    [3, () => {
      // Strings near the message limit, into modules with one page of memory and no allocator.
      const id = nextId();
      const name = pick(["validate_url", "process_response", "count_words", "describe_url", "count_vowels"]);
      const field = name === "count_vowels" ? "text" : "data";
      const big = pick(["a", "é", "💥", " "]).repeat(int((options.maxMessageBytes - 300) / 4));
      return { label: `large string into ${name}`, bytes: request(id, "tools/call", { name, arguments: { [field]: big } }), expect: { kind: "id", id } };
    }],
    [1, () => {
      // JSON.parse keeps the last of duplicate keys; so must whoever answers.
      const id = `dup-${serial++}`;
      return { label: "duplicate id keys", bytes: text(`{"jsonrpc":"2.0","id":${nextId()},"method":"ping","id":${JSON.stringify(id)}}`), expect: { kind: "id", id } };
    }],
    [2, () => ({ label: "blank line", bytes: text(pick(["", " ", "\t", "\r", "  \r"])), expect: { kind: "none" } })],
  ];
  if (options.oversize) {
    generators.push([1, () => {
      const size = options.maxMessageBytes + 1 + int(options.maxMessageBytes * 2);
      const head = `{"jsonrpc":"2.0","id":${nextId()},"method":"tools/call","params":{"name":"count_vowels","arguments":{"text":"`;
      return { label: `oversize line of ${size} bytes`, bytes: Buffer.concat([Buffer.from(head), Buffer.alloc(size, "a"), Buffer.from('"}}}')]), expect: { kind: "null" } };
    }]);
  }

  const total = generators.reduce((sum, [w]) => sum + w, 0);
  const frames: Frame[] = [];
  for (let i = 0; i < count; i++) {
    let roll = random() * total;
    const [, make] = generators.find(([w]) => (roll -= w) < 0) ?? generators[generators.length - 1];
    const frame = make();
    if (frame.bytes.includes(0x0a)) throw new Error(`generator bug: frame "${frame.label}" contains a newline`);
    frames.push(frame);
  }
  return frames;
}
