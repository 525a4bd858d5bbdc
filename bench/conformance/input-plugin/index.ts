// input-plugin — a self-describing Extism plugin (hyper-mcp interface 2: list_tools + call_tool,
// list_prompts + get_prompt) whose tools and prompt ask the client questions with WasmForge's
// request_input host function, under the keys the MCP conformance scenarios expect. It serves:
//
//   input-required-result-basic-elicitation, -result-type, -missing-input-response,
//   -ignore-extra-params, -validate-input    test_input_required_result_elicitation  (user_name)
//   input-required-result-basic-sampling     test_input_required_result_sampling     (capital_question)
//   input-required-result-basic-list-roots   test_input_required_result_list_roots   (client_roots)
//   input-required-result-request-state      test_input_required_result_request_state (confirm)
//   input-required-result-tampered-state     test_input_required_result_tampered_state (confirm)
//   input-required-result-multiple-input-requests  test_input_required_result_multiple_inputs
//                                            (user_name, greeting, client_roots in one round)
//   input-required-result-multi-round        test_input_required_result_multi_round  (step1, then step2)
//   input-required-result-capability-check   test_input_required_result_capabilities (asks only what
//                                            the client declared in its context _meta)
//   input-required-result-non-tool-request   prompt test_input_required_result_prompt (user_context)
//
// A question without an answer ends the call; WasmForge answers the request `input_required` and runs
// the call again from its start once the client answers (see src/server/input.ts). The plugin never
// sees requestState: WasmForge signs it and checks it. What it does see is
// `_meta["io.wasmforge/inputRound"]`: 1 on the first request, and one more each time the client comes
// back with a requestState WasmForge minted and verified — so "state-ok" means exactly that.
//
// Compiled at run time by bench/conformance.mjs with the `assemblyscript` dev dependency.
import { beginCall, blockString, fail, inputString, jsonString, outputString, toBlock } from "../../../modules/extism/pdk";
import { numberField, rawField, stringField, textResult } from "../../../modules/extism/mcp-pdk";

@external("extism:host/user", "request_input")
declare function request_input(questions: u64): u64;

/** Asks the client (one round, every question in `questions`); returns `{ key: answer, ... }`. */
function ask(questions: string): string {
  return blockString(request_input(toBlock("{" + questions + "}")));
}

function elicit(key: string, message: string, property: string): string {
  return jsonString(key) + ":{\"method\":\"elicitation/create\",\"params\":{\"message\":" + jsonString(message) +
    ",\"requestedSchema\":{\"type\":\"object\",\"properties\":{" + jsonString(property) + ":{\"type\":\"string\"}},\"required\":[" +
    jsonString(property) + "]}}}";
}

function confirm(): string {
  return "\"confirm\":{\"method\":\"elicitation/create\",\"params\":{\"message\":\"Please confirm\"," +
    "\"requestedSchema\":{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":\"boolean\"}},\"required\":[\"ok\"]}}}";
}

function sample(key: string, text: string, maxTokens: i32): string {
  return jsonString(key) + ":{\"method\":\"sampling/createMessage\",\"params\":{\"messages\":[{\"role\":\"user\"," +
    "\"content\":{\"type\":\"text\",\"text\":" + jsonString(text) + "}}],\"maxTokens\":" + maxTokens.toString() + "}}";
}

function roots(key: string): string {
  return jsonString(key) + ":{\"method\":\"roots/list\",\"params\":{}}";
}

/** The string field `field` of an accepted elicitation's content, or `fallback`. */
function accepted(answer: string, field: string, fallback: string): string {
  if (stringField(answer, "action") != "accept") return fallback;
  const value = stringField(rawField(answer, "content"), field);
  return value === null ? fallback : value!;
}

/** The text of a sampling answer (a CreateMessageResult). */
function sampled(answer: string): string {
  const text = stringField(rawField(answer, "content"), "text");
  return text === null ? "(no text)" : text!;
}

function callTool(name: string, meta: string): string {
  const round = numberField(meta, "io.wasmforge/inputRound");
  if (name == "test_input_required_result_elicitation") {
    return textResult("Hello, " + accepted(rawField(ask(elicit("user_name", "What is your name?", "name")), "user_name"), "name", "stranger") + "!", false);
  }
  if (name == "test_input_required_result_sampling") {
    return textResult("Sampling response: " + sampled(rawField(ask(sample("capital_question", "What is the capital of France?", 100)), "capital_question")), false);
  }
  if (name == "test_input_required_result_list_roots") {
    return textResult("Client roots: " + rawField(rawField(ask(roots("client_roots")), "client_roots"), "roots"), false);
  }
  if (name == "test_input_required_result_request_state" || name == "test_input_required_result_tampered_state") {
    const ok = rawField(rawField(rawField(ask(confirm()), "confirm"), "content"), "ok");
    // Round 2 or later: the client came back with the requestState of the round that asked.
    const state = round >= 2 ? "state-ok: the requestState came back verified" : "no requestState came back";
    return textResult(state + "; confirmed: " + (ok.length > 0 ? ok : "no"), false);
  }
  if (name == "test_input_required_result_multiple_inputs") {
    const answers = ask(elicit("user_name", "What is your name?", "name") + "," + sample("greeting", "Generate a greeting", 50) + "," + roots("client_roots"));
    const who = accepted(rawField(answers, "user_name"), "name", "stranger");
    return textResult(sampled(rawField(answers, "greeting")) + " " + who + " (roots: " + rawField(rawField(answers, "client_roots"), "roots") + ")", false);
  }
  if (name == "test_input_required_result_multi_round") {
    // Two rounds: the second question is asked only once the first is answered.
    const who = accepted(rawField(ask(elicit("step1", "Step 1: What is your name?", "name")), "step1"), "name", "unknown");
    const colour = accepted(rawField(ask(elicit("step2", "Step 2: What is your favorite color?", "color")), "step2"), "color", "unknown");
    return textResult("Multi-round complete: " + who + " likes " + colour, false);
  }
  if (name == "test_input_required_result_capabilities") {
    // Only what the client declared it can answer, from the capabilities WasmForge passes in _meta.
    const declared = rawField(meta, "io.modelcontextprotocol/clientCapabilities");
    let questions = "";
    if (rawField(declared, "elicitation").length > 0) questions = elicit("user_name", "What is your name?", "name");
    if (rawField(declared, "sampling").length > 0) questions += (questions.length > 0 ? "," : "") + sample("greeting", "Generate a short greeting", 50);
    if (rawField(declared, "roots").length > 0) questions += (questions.length > 0 ? "," : "") + roots("client_roots");
    if (questions.length == 0) return textResult("No declared client capability lets me ask anything", false);
    ask(questions);
    return textResult("Capability-aware input requests fulfilled", false);
  }
  return textResult("input-plugin: unknown tool " + name, true);
}

export function list_tools(): i32 {
  beginCall();
  // Built after beginCall: anything built at start-up would live on the heap it resets.
  const names = [
    "test_input_required_result_elicitation",
    "test_input_required_result_sampling",
    "test_input_required_result_list_roots",
    "test_input_required_result_request_state",
    "test_input_required_result_tampered_state",
    "test_input_required_result_multiple_inputs",
    "test_input_required_result_multi_round",
    "test_input_required_result_capabilities",
  ];
  let tools = "";
  for (let i = 0; i < names.length; i++) {
    tools += (i > 0 ? "," : "") + "{\"name\":" + jsonString(names[i]) + ",\"description\":\"Asks the client through request_input\"," +
      "\"inputSchema\":{\"type\":\"object\"}}";
  }
  outputString("{\"tools\":[" + tools + "]}");
  return 0;
}

export function call_tool(): i32 {
  beginCall();
  const input = inputString();
  const name = stringField(rawField(input, "request"), "name");
  if (name === null) return fail("call_tool: the request has no tool name");
  outputString(callTool(name!, rawField(rawField(input, "context"), "_meta")));
  return 0;
}

export function list_prompts(): i32 {
  beginCall();
  outputString("{\"prompts\":[{\"name\":\"test_input_required_result_prompt\",\"description\":\"Asks the client for context first\"}]}");
  return 0;
}

export function get_prompt(): i32 {
  beginCall();
  const name = stringField(rawField(inputString(), "request"), "name");
  if (name != "test_input_required_result_prompt") return fail("get_prompt: unknown prompt");
  const context = accepted(rawField(ask(elicit("user_context", "What context should the prompt use?", "context")), "user_context"), "context", "none");
  outputString("{\"messages\":[{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":" + jsonString("Use the following context: " + context) + "}}]}");
  return 0;
}
