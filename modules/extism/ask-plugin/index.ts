// ask-plugin — an Extism plugin that asks the user a question through the MCP client
// (elicitation), with hyper-mcp's create_elicitation host function.
//
//   greet_user  {}  -> asks "What is your name?", then: Hello, <name>! Nice to meet you.
//
// The call does not wait for the answer: WasmForge ends it, the client answers the question, and
// the call runs again from its start; this time create_elicitation returns the answer.
import { beginCall, blockString, fail, JsonField, Kind, outputString, toBlock } from "../pdk";

@external("extism:host/user", "create_elicitation")
declare function create_elicitation(params: u64): u64;

// One literal (static data): a string built at start-up would live on the heap that beginCall resets.
const QUESTION = '{"message":"What is your name?","requestedSchema":{"type":"object","properties":{"name":{"type":"string","description":"Your name"}},"required":["name"]}}';

export function greet_user(): i32 {
  beginCall();
  const answer = new JsonField(blockString(create_elicitation(toBlock(QUESTION))));
  if (answer.find("action") != Kind.String) return fail("greet_user: the client's answer has no action");
  if (answer.str != "accept") {
    outputString("No name given (the user chose " + answer.str + ").");
    return 0;
  }
  if (answer.find("content") != Kind.Other) return fail("greet_user: the client accepted but sent no content");
  const content = new JsonField(answer.str);
  if (content.find("name") != Kind.String) return fail("greet_user: the answer has no name");
  outputString("Hello, " + content.str + "! Nice to meet you.");
  return 0;
}
