// rounds-plugin — an interface 2 plugin (hyper-mcp v2) that asks its client two questions, one after
// the other, with WasmForge's request_input, and reports which round of questions it finished in
// (`_meta["io.wasmforge/inputRound"]` of its context: 1, then one more each time the client came back
// with the verified requestState of the round before).
//
//   two_questions {}  asks "first" (a name), then "second" (a colour); answers
//                     "<name> likes <colour> (round N)": N is 3 when each answer took a round.
import { beginCall, blockString, inputString, jsonString, outputString, toBlock } from "../pdk";
import { numberField, rawField, stringField, textResult } from "../mcp-pdk";

@external("extism:host/user", "request_input")
declare function request_input(questions: u64): u64;

/** Asks for one string field `field` under `key`; returns it ("?" if the user gave none). */
function ask(key: string, message: string, field: string): string {
  const question = "{" + jsonString(key) + ":{\"method\":\"elicitation/create\",\"params\":{\"message\":" + jsonString(message) +
    ",\"requestedSchema\":{\"type\":\"object\",\"properties\":{" + jsonString(field) + ":{\"type\":\"string\"}},\"required\":[" + jsonString(field) + "]}}}}";
  const value = stringField(rawField(rawField(blockString(request_input(toBlock(question))), key), "content"), field);
  return value === null ? "?" : value!;
}

export function list_tools(): i32 {
  beginCall();
  outputString("{\"tools\":[{\"name\":\"two_questions\",\"description\":\"Asks two questions, one after the other\",\"inputSchema\":{\"type\":\"object\"}}]}");
  return 0;
}

export function call_tool(): i32 {
  beginCall();
  const round = numberField(rawField(rawField(inputString(), "context"), "_meta"), "io.wasmforge/inputRound");
  const name = ask("first", "What is your name?", "name");
  const colour = ask("second", "What is your favourite colour?", "colour");
  outputString(textResult(name + " likes " + colour + " (round " + (<i32>round).toString() + ")", false));
  return 0;
}
