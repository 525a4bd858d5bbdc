// Modules that ask the client (elicitation, sampling, roots). A call that asks something it has no
// answer for ends with NeedsInput; the MCP layer answers the request `input_required` (2026-07-28;
// for a 2025 client the SDK sends the server-to-client requests itself and comes back with the
// answers), and when the request comes again with the answers, the call runs again from its start
// and this time the module's question returns its answer. Answers from earlier rounds travel in the
// request's signed requestState, so any process serving the same config can take the next round.
// A module never sees that state; it sees which round it is running in (INPUT_ROUND_META in the
// `_meta` a self-describing plugin receives): 1, then one more each time the client came back with
// the verified requestState of the round before.

import { randomBytes } from "node:crypto";
import { createRequestStateCodec, inputRequired, type InputRequiredResult, type ServerContext } from "@modelcontextprotocol/server";
import { sha256Hex } from "../core/hash.js";
import type { InputRequests } from "../runtime/protocol.js";

/** The call asked its client for input it has no answer for yet. */
export class NeedsInput extends Error {
  constructor(readonly requests: InputRequests) {
    super(`the module asks the client for input (${Object.keys(requests).join(", ")})`);
  }
}

export const INPUT_ROUND_META = "io.wasmforge/inputRound";

/** What requestState carries between rounds: the answers so far, bound to one request's subject. */
interface InputState {
  subject: string;
  answers: Record<string, unknown>;
  /** The round that asked. */
  round: number;
}

export interface Round {
  /** 1 without a requestState of this request; n + 1 with the verified requestState of round n. */
  number: number;
  /** Answers for this round: those carried in requestState plus those the client sent now. */
  answers: Record<string, unknown>;
}

const FIRST_ROUND: Round = Object.freeze({ number: 1, answers: Object.freeze({}) }) as Round;

export interface InputRounds {
  /**
   * This request's round and its answers. `subject` is worked out only when the request carries
   * answers or a requestState (most carry neither: round 1, no answers).
   */
  current(ctx: ServerContext, subject: () => string): Round;
  /** The `input_required` result asking the client what NeedsInput lists. */
  ask(ctx: ServerContext, subject: string, needs: NeedsInput): Promise<InputRequiredResult>;
  /** For ServerOptions.requestState.verify. */
  verify: (state: string, ctx: ServerContext) => Promise<unknown>;
}

/**
 * `key`: the secret that signs requestState (replicas serving one deployment share it); by default
 * a random one per process.
 */
export function inputRounds(key = randomBytes(32).toString("hex")): InputRounds {
  const codec = createRequestStateCodec<InputState>({ key, ttlSeconds: 600 });
  /** The verified state this request carries, if it belongs to this request. */
  const carried = (ctx: ServerContext, subject: string): InputState | undefined => {
    const state = readState(ctx);
    return state && state.subject === subject && typeof state.answers === "object" && typeof state.round === "number" ? state : undefined;
  };
  return {
    current(ctx, subject) {
      const given = ctx.mcpReq.inputResponses;
      if (given === undefined && readState(ctx) === undefined) return FIRST_ROUND;
      const state = carried(ctx, subject());
      // A response that is not an object answers nothing: the question is asked again.
      const valid = Object.fromEntries(Object.entries(given ?? {}).filter(([, v]) => typeof v === "object" && v !== null && !Array.isArray(v)));
      return { number: state ? state.round + 1 : 1, answers: { ...state?.answers, ...valid } };
    },
    async ask(ctx, subject, needs) {
      const { number, answers } = this.current(ctx, () => subject);
      return inputRequired({
        inputRequests: needs.requests as Parameters<typeof inputRequired>[0]["inputRequests"],
        requestState: await codec.mint({ subject, answers, round: number }),
      });
    },
    verify: (state, ctx) => codec.verify(state, ctx),
  };
}

/** The request's verified requestState, when it carries one of WasmForge's. */
function readState(ctx: ServerContext): InputState | undefined {
  try {
    const state = ctx.mcpReq.requestState<InputState>();
    return state && typeof state === "object" ? state : undefined;
  } catch {
    return undefined;
  }
}

/** What a round's answers are bound to: the method, the name and the arguments. */
export function inputSubject(method: string, name: string, args: unknown): string {
  return `${method} ${name} ${sha256Hex(JSON.stringify(args ?? {})).slice(0, 16)}`;
}
