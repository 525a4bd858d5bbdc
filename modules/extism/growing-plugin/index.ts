// growing-plugin — an interface 2 plugin (hyper-mcp v2) whose lists change while it is served, and
// which says so with hyper-mcp's notify_tool_list_changed and notify_prompt_list_changed.
//
//   list_tools    grow, and once grown: grown
//   list_prompts  once grown: grown_prompt
//   grow {}       remembers (a plugin variable) that it has grown, announces that its tools and
//                 prompts changed, and answers "grew"; WasmForge then lists them again and tells clients
//   grown {}      answers "I was added"
//
// The variable lives in the worker that ran the call: a server with one worker (pool_size = 1) lists
// the plugin again in that same worker, so it sees the new lists.
import { beginCall, inputString, outputString, fail } from "../pdk";
import { block, rawField, stringField, textResult } from "../mcp-pdk";

@external("extism:host/env", "var_get")
declare function var_get(key: u64): u64;
@external("extism:host/env", "var_set")
declare function var_set(key: u64, value: u64): void;
@external("extism:host/user", "notify_tool_list_changed")
declare function notify_tool_list_changed(): void;
@external("extism:host/user", "notify_prompt_list_changed")
declare function notify_prompt_list_changed(): void;

function grown(): bool {
  return var_get(block("grown")) != 0;
}

export function list_tools(): i32 {
  beginCall();
  const extra = grown() ? ",{\"name\":\"grown\",\"description\":\"A tool added while the plugin was served\",\"inputSchema\":{\"type\":\"object\"}}" : "";
  outputString("{\"tools\":[{\"name\":\"grow\",\"description\":\"Adds a tool and a prompt\",\"inputSchema\":{\"type\":\"object\"}}" + extra + "]}");
  return 0;
}

export function list_prompts(): i32 {
  beginCall();
  outputString(grown() ? "{\"prompts\":[{\"name\":\"grown_prompt\",\"description\":\"A prompt added while the plugin was served\"}]}" : "{\"prompts\":[]}");
  return 0;
}

export function get_prompt(): i32 {
  beginCall();
  outputString("{\"messages\":[{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":\"I grew.\"}}]}");
  return 0;
}

export function call_tool(): i32 {
  beginCall();
  const name = stringField(rawField(inputString(), "request"), "name");
  if (name == "grow") {
    var_set(block("grown"), block("yes"));
    notify_tool_list_changed();
    notify_prompt_list_changed();
    outputString(textResult("grew", false));
  } else if (name == "grown") {
    outputString(textResult("I was added", false));
  } else {
    return fail("growing-plugin: unknown tool");
  }
  return 0;
}
