// Modules that ask the client (elicitation, sampling, roots). A call that asks something it has no
// answer for ends with NeedsInput; the MCP layer answers the request `input_required` (2026-07-28;
// for a 2025 client the SDK sends the server-to-client requests itself and comes back with the
// answers), and when the request comes again with the answers, the call runs again from its start
// and this time the module's question returns its answer. Answers from earlier rounds travel in the
// request's signed requestState, so any process serving the same config can take the next round.

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

/** What requestState carries between rounds: the answers so far, bound to one request's subject. */
interface InputState {
  subject: string;
  answers: Record<string, unknown>;
}

export interface InputRounds {
  /**
   * Answers for this round: those carried in requestState plus those the client sent now.
   * `subject` is asked for only when the request carries any (most carry none).
   */
  answers(ctx: ServerContext, subject: () => string): Record<string, unknown> | undefined;
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
  const carried = (ctx: ServerContext, subject: string): Record<string, unknown> => {
    const state = readState(ctx);
    return state && state.subject === subject && typeof state.answers === "object" ? state.answers : {};
  };
  return {
    answers(ctx, subject) {
      const given = ctx.mcpReq.inputResponses;
      if (given === undefined && ctx.mcpReq.requestState === undefined) return undefined;
      if (given === undefined && readState(ctx) === undefined) return undefined;
      // A response that is not an object answers nothing: the question is asked again.
      const valid = Object.fromEntries(Object.entries(given ?? {}).filter(([, v]) => typeof v === "object" && v !== null && !Array.isArray(v)));
      return { ...carried(ctx, subject()), ...valid };
    },
    async ask(ctx, subject, needs) {
      const answers = this.answers(ctx, () => subject) ?? {};
      return inputRequired({
        inputRequests: needs.requests as Parameters<typeof inputRequired>[0]["inputRequests"],
        requestState: await codec.mint({ subject, answers }),
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
