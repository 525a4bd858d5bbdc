// Rounds of questions: a call that asks its client twice, one question after the other, runs three
// times; the plugin sees which round it runs in (`io.wasmforge/inputRound` in its context _meta),
// counted only through the requestState WasmForge signed, in both eras, through the built CLI.

import { describe, expect, it } from "vitest";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { connectEra, MODERN } from "./clients.js";
import { jsonLines, moduleEntry, runCli, textOf, writeConfig } from "./helpers.js";

const CONFIG = moduleEntry("rounds", "rounds-plugin.wasm");
const stdio = () => ({ stdio: ["serve", "--config", writeConfig(CONFIG), "--no-watch"] });

/** The answer to each question, by its message. */
const answer = (message: string, name: string, colour: string) =>
  message.startsWith("What is your name") ? { action: "accept" as const, content: { name } } : { action: "accept" as const, content: { colour } };

describe("a call that asks two questions, one after the other", () => {
  it("finishes in round 3 for a 2026 client, which answered each round with the requestState it was given", async () => {
    const { client } = await connectEra("2026", stdio(), { elicitation: { form: {} } });
    try {
      const messages: string[] = [];
      client.setRequestHandler("elicitation/create", async (req) => {
        messages.push(req.params.message);
        return answer(req.params.message, "Ada", "green");
      });
      expect(textOf(await client.callTool({ name: "two_questions", arguments: {} }))).toBe("Ada likes green (round 3)");
      expect(messages).toEqual(["What is your name?", "What is your favourite colour?"]);
    } finally {
      await client.close();
    }
  });

  it("finishes in round 3 for a 2025 client, whose questions the SDK sends as elicitation requests", async () => {
    const { client } = await connectEra("2025", stdio(), { elicitation: {} });
    try {
      client.setRequestHandler(ElicitRequestSchema, async (req) => answer(req.params.message, "Grace", "blue"));
      expect(textOf(await client.callTool({ name: "two_questions", arguments: {} }))).toBe("Grace likes blue (round 3)");
    } finally {
      await client.close();
    }
  });

  it("answers given up front are used, but count as round 1; a requestState WasmForge did not sign is refused", async () => {
    const envelope = {
      "io.modelcontextprotocol/protocolVersion": MODERN,
      "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" },
      "io.modelcontextprotocol/clientCapabilities": { elicitation: { form: {} } },
    };
    const inputResponses = { first: { action: "accept", content: { name: "Lin" } }, second: { action: "accept", content: { colour: "red" } } };
    const call = (id: number, extra: Record<string, unknown>) =>
      JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "two_questions", arguments: {}, inputResponses, _meta: envelope, ...extra } });
    const { stdout } = await runCli(["serve", "--config", writeConfig(CONFIG), "--no-watch"], {
      input: `${call(1, {})}\n${call(2, { requestState: "v1.forged.state" })}\n`,
    });
    const replies = jsonLines(stdout);
    expect(replies.find((r) => r.id === 1)).toMatchObject({ result: { resultType: "complete", content: [{ type: "text", text: "Lin likes red (round 1)" }] } });
    expect(replies.find((r) => r.id === 2)).toMatchObject({ error: { code: -32602 } });
  });
});
