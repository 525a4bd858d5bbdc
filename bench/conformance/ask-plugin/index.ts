// ask-plugin — a self-describing Extism plugin (hyper-mcp interface 2: list_tools + call_tool) whose
// tools ask the client mid-call with hyper-mcp's create_elicitation and create_message host
// functions. For a 2025 client the SDK sends the elicitation/create and sampling/createMessage
// requests itself; for a 2026 client WasmForge answers `input_required`. It serves:
//
//   tools-call-sampling            test_sampling {prompt}   → "LLM response: <the client's text>"
//   tools-call-elicitation         test_elicitation {message} → "User response: action=…, content=…"
//   elicitation-sep1034-defaults   test_elicitation_sep1034_defaults (a form whose fields have defaults)
//   elicitation-sep1330-enums      test_elicitation_sep1330_enums (the five enum forms of SEP-1330)
//   server-stateless               test_missing_capability (asks for sampling: a 2026 client that did
//                                  not declare it gets -32021 from the SDK, and the plugin never runs on)
//
// Compiled at run time by bench/conformance.mjs with the `assemblyscript` dev dependency.
import { beginCall, blockString, fail, inputString, jsonString, outputString, toBlock } from "../../../modules/extism/pdk";
import { rawField, stringField, textResult } from "../../../modules/extism/mcp-pdk";

@external("extism:host/user", "create_elicitation")
declare function create_elicitation(params: u64): u64;
@external("extism:host/user", "create_message")
declare function create_message(params: u64): u64;

function elicit(message: string, requestedSchema: string): string {
  return blockString(create_elicitation(toBlock("{\"message\":" + jsonString(message) + ",\"requestedSchema\":" + requestedSchema + "}")));
}

/** The sampled text of a CreateMessageResult. */
function sample(prompt: string, maxTokens: i32): string {
  const result = blockString(create_message(toBlock(
    "{\"messages\":[{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":" + jsonString(prompt) + "}}],\"maxTokens\":" + maxTokens.toString() + "}",
  )));
  const text = stringField(rawField(result, "content"), "text");
  return text === null ? "(no text)" : text!;
}

/** "action=…, content=…" of an ElicitResult. */
function outcome(result: string): string {
  const action = stringField(result, "action");
  const content = rawField(result, "content");
  return "action=" + (action === null ? "?" : action!) + ", content=" + (content.length > 0 ? content : "{}");
}

function defaultsForm(): string {
  return "{\"type\":\"object\",\"properties\":{" +
    "\"name\":{\"type\":\"string\",\"description\":\"User name\",\"default\":\"John Doe\"}," +
    "\"age\":{\"type\":\"integer\",\"description\":\"User age\",\"default\":30}," +
    "\"score\":{\"type\":\"number\",\"description\":\"User score\",\"default\":95.5}," +
    "\"status\":{\"type\":\"string\",\"description\":\"User status\",\"enum\":[\"active\",\"inactive\",\"pending\"],\"default\":\"active\"}," +
    "\"verified\":{\"type\":\"boolean\",\"description\":\"Verification status\",\"default\":true}}}";
}

function enumsForm(): string {
  return "{\"type\":\"object\",\"properties\":{" +
    "\"untitledSingle\":{\"type\":\"string\",\"description\":\"Select one option\",\"enum\":[\"option1\",\"option2\",\"option3\"]}," +
    "\"titledSingle\":{\"type\":\"string\",\"description\":\"Select one option with titles\",\"oneOf\":[" +
    "{\"const\":\"value1\",\"title\":\"First Option\"},{\"const\":\"value2\",\"title\":\"Second Option\"},{\"const\":\"value3\",\"title\":\"Third Option\"}]}," +
    "\"legacyEnum\":{\"type\":\"string\",\"description\":\"Select one option (legacy)\",\"enum\":[\"opt1\",\"opt2\",\"opt3\"]," +
    "\"enumNames\":[\"Option One\",\"Option Two\",\"Option Three\"]}," +
    "\"untitledMulti\":{\"type\":\"array\",\"description\":\"Select multiple options\",\"minItems\":1,\"maxItems\":3," +
    "\"items\":{\"type\":\"string\",\"enum\":[\"option1\",\"option2\",\"option3\"]}}," +
    "\"titledMulti\":{\"type\":\"array\",\"description\":\"Select multiple options with titles\",\"minItems\":1,\"maxItems\":3," +
    "\"items\":{\"anyOf\":[{\"const\":\"value1\",\"title\":\"First Choice\"},{\"const\":\"value2\",\"title\":\"Second Choice\"}," +
    "{\"const\":\"value3\",\"title\":\"Third Choice\"}]}}}}";
}

function tool(name: string, description: string, properties: string): string {
  const required = properties.length > 0 ? ",\"required\":[" + jsonString(properties) + "]" : "";
  const schema = properties.length > 0 ? ",\"properties\":{" + jsonString(properties) + ":{\"type\":\"string\"}}" : "";
  return "{\"name\":" + jsonString(name) + ",\"description\":" + jsonString(description) +
    ",\"inputSchema\":{\"type\":\"object\"" + schema + required + "}}";
}

export function list_tools(): i32 {
  beginCall();
  outputString("{\"tools\":[" +
    tool("test_sampling", "Asks the client's LLM to answer a prompt", "prompt") + "," +
    tool("test_elicitation", "Asks the user for a username and an email", "message") + "," +
    tool("test_elicitation_sep1034_defaults", "Asks the user a form whose fields have defaults", "") + "," +
    tool("test_elicitation_sep1330_enums", "Asks the user to pick from enums", "") + "," +
    tool("test_missing_capability", "Needs sampling from the client", "") +
    "]}");
  return 0;
}

export function call_tool(): i32 {
  beginCall();
  const request = rawField(inputString(), "request");
  const name = stringField(request, "name");
  const args = rawField(request, "arguments");
  if (name == "test_sampling") {
    const prompt = stringField(args, "prompt");
    outputString(textResult("LLM response: " + sample(prompt === null ? "" : prompt!, 100), false));
  } else if (name == "test_elicitation") {
    const message = stringField(args, "message");
    const form = "{\"type\":\"object\",\"properties\":{\"username\":{\"type\":\"string\",\"description\":\"User's response\"}," +
      "\"email\":{\"type\":\"string\",\"description\":\"User's email address\"}},\"required\":[\"username\",\"email\"]}";
    outputString(textResult("User response: " + outcome(elicit(message === null ? "" : message!, form)), false));
  } else if (name == "test_elicitation_sep1034_defaults") {
    outputString(textResult("Elicitation completed: " + outcome(elicit("Please review and update the form fields with defaults", defaultsForm())), false));
  } else if (name == "test_elicitation_sep1330_enums") {
    outputString(textResult("Elicitation completed: " + outcome(elicit("Please select options from the enum fields", enumsForm())), false));
  } else if (name == "test_missing_capability") {
    outputString(textResult("Sampled: " + sample("Reply with the single word: pong", 16), false));
  } else {
    return fail("ask-plugin: unknown tool " + (name === null ? "(no name)" : name!));
  }
  return 0;
}
