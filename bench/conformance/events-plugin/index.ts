// events-plugin — a self-describing Extism plugin (hyper-mcp interface 2: list_tools + call_tool)
// for the parts of the server-stateless scenario (2026-07-28) that are about what a call sends
// besides its result. It serves:
//
//   test_trigger_tool_change     announces with notify_tool_list_changed that its tools changed:
//                                WasmForge lists them again and tells listen streams (and 2025 sessions)
//   test_trigger_prompt_change   the same for prompts, with notify_prompt_list_changed
//   test_logging_tool            logs one line with notify_logging_message: WasmForge sends it only to a
//                                2026 request that carries a logLevel in its _meta (none does here)
//   test_streaming_elicitation   a plain result: the scenario checks that the response stream carries no
//                                request of the server's own
// and for server-sse-polling (2025-11-25):
//   test_reconnection            a plain result. WasmForge keeps a 2025 session's stream events, so a
//                                client whose stream broke can resume it with Last-Event-ID, but it
//                                never closes a call's stream itself: the result arrives on the first
//                                stream, and the suite's close-and-resume check stays informational
//
// Compiled at run time by bench/conformance.mjs with the `assemblyscript` dev dependency.
import { beginCall, fail, inputString, jsonString, outputString } from "../../../modules/extism/pdk";
import { block, rawField, stringField, textResult } from "../../../modules/extism/mcp-pdk";

@external("extism:host/user", "notify_tool_list_changed")
declare function notify_tool_list_changed(): void;
@external("extism:host/user", "notify_prompt_list_changed")
declare function notify_prompt_list_changed(): void;
@external("extism:host/user", "notify_logging_message")
declare function notify_logging_message(params: u64): void;

function tool(name: string, description: string): string {
  return "{\"name\":" + jsonString(name) + ",\"description\":" + jsonString(description) + ",\"inputSchema\":{\"type\":\"object\"}}";
}

export function list_tools(): i32 {
  beginCall();
  outputString("{\"tools\":[" +
    tool("test_trigger_tool_change", "Announces that this plugin's tools changed") + "," +
    tool("test_trigger_prompt_change", "Announces that this plugin's prompts changed") + "," +
    tool("test_logging_tool", "Logs one line for the client, if it asked for log messages") + "," +
    tool("test_streaming_elicitation", "Answers with a plain result") + "," +
    tool("test_reconnection", "Answers with a plain result, on the stream the call came on") +
    "]}");
  return 0;
}

export function call_tool(): i32 {
  beginCall();
  const name = stringField(rawField(inputString(), "request"), "name");
  if (name == "test_trigger_tool_change") {
    notify_tool_list_changed();
    outputString(textResult("announced: tools list changed", false));
  } else if (name == "test_trigger_prompt_change") {
    notify_prompt_list_changed();
    outputString(textResult("announced: prompts list changed", false));
  } else if (name == "test_logging_tool") {
    notify_logging_message(block("{\"level\":\"info\",\"logger\":\"events-plugin\",\"data\":\"test_logging_tool ran\"}"));
    outputString(textResult("logged one line (sent only if the request asked for a log level)", false));
  } else if (name == "test_streaming_elicitation") {
    outputString(textResult("a plain result, with no request of the server's own on the stream", false));
  } else if (name == "test_reconnection") {
    outputString(textResult("answered on the stream the call came on", false));
  } else {
    return fail("events-plugin: unknown tool " + (name === null ? "(no name)" : name!));
  }
  return 0;
}
