// mcp-plugin — a plugin for interface 2 (hyper-mcp "v2"): tools with titles, output schemas and
// annotations, prompts, resources and a resource template, and logging and progress through the
// host functions hyper-mcp offers in extism:host/user.
//
//   list_tools / list_prompts / list_resources / list_resource_templates   {"context":{..}} -> list
//   call_tool     {"request":{"name":..,"arguments":{..}},"context":{"id":..,"_meta":{..}}}
//   get_prompt    {"request":{"name":..,"arguments":{..}},"context":{..}}
//   read_resource {"request":{"uri":..},"context":{..}}
//
//   word_stats {"text":"a b"}  -> structuredContent {"words":2,"chars":3}
//   steps      {"count":3}     -> logs (debug once, info per step) and progress per step, then "did 3 steps"
import { beginCall, inputString, outputString, fail, jsonString } from "../pdk";
import { block, numberField, rawField, stringField, textResult } from "../mcp-pdk";

@external("extism:host/user", "notify_logging_message")
declare function notify_logging_message(offs: u64): void;
@external("extism:host/user", "notify_progress")
declare function notify_progress(offs: u64): void;

const TOOLS =
  "{\"tools\":[" +
  "{\"name\":\"word_stats\",\"title\":\"Word statistics\",\"description\":\"Counts the words and characters of a text\"," +
  "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},\"required\":[\"text\"]}," +
  "\"outputSchema\":{\"type\":\"object\",\"properties\":{\"words\":{\"type\":\"integer\"},\"chars\":{\"type\":\"integer\"}},\"required\":[\"words\",\"chars\"]}," +
  "\"annotations\":{\"title\":\"Word statistics\",\"readOnlyHint\":true,\"idempotentHint\":true,\"openWorldHint\":false}}," +
  "{\"name\":\"steps\",\"title\":\"Work in steps\",\"description\":\"Does some steps, logging and reporting progress after each\"," +
  "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"count\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":20}},\"required\":[\"count\"]}}" +
  "]}";

const PROMPTS =
  "{\"prompts\":[{\"name\":\"summarize\",\"title\":\"Summarize\",\"description\":\"Asks for a one-sentence summary of a text\"," +
  "\"arguments\":[{\"name\":\"text\",\"description\":\"The text to summarize\",\"required\":true}]}]}";

const RESOURCES =
  "{\"resources\":[{\"uri\":\"memo://readme\",\"name\":\"readme\",\"title\":\"Read me\"," +
  "\"description\":\"What this plugin is\",\"mimeType\":\"text/plain\"}]}";

const TEMPLATES =
  "{\"resourceTemplates\":[{\"uriTemplate\":\"memo://notes/{id}\",\"name\":\"note\",\"title\":\"A note by id\",\"mimeType\":\"text/plain\"}]}";

export function list_tools(): i32 {
  beginCall();
  outputString(TOOLS);
  return 0;
}

export function list_prompts(): i32 {
  beginCall();
  outputString(PROMPTS);
  return 0;
}

export function list_resources(): i32 {
  beginCall();
  outputString(RESOURCES);
  return 0;
}

export function list_resource_templates(): i32 {
  beginCall();
  outputString(TEMPLATES);
  return 0;
}

function isSpace(c: i32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
}

function wordStats(args: string): string {
  const text = stringField(args, "text");
  if (text === null) return textResult("word_stats: \"text\" must be a string", true);
  let words = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const space = isSpace(text.charCodeAt(i));
    if (!space && !inWord) words++;
    inWord = !space;
  }
  const stats = "{\"words\":" + words.toString() + ",\"chars\":" + text.length.toString() + "}";
  return "{\"content\":[{\"type\":\"text\",\"text\":" + jsonString(stats) + "}],\"structuredContent\":" + stats + "}";
}

function steps(args: string, context: string): string {
  const count = <i32>numberField(args, "count");
  // The progress token arrives in the request context's _meta, exactly as the client sent it.
  const token = rawField(rawField(context, "_meta"), "progressToken");
  notify_logging_message(block("{\"level\":\"debug\",\"logger\":\"steps\",\"data\":{\"count\":" + count.toString() + "}}"));
  for (let i = 1; i <= count; i++) {
    const message = "step " + i.toString() + " of " + count.toString();
    if (token.length > 0) {
      notify_progress(block(
        "{\"progressToken\":" + token + ",\"progress\":" + i.toString() + ",\"total\":" + count.toString() +
          ",\"message\":" + jsonString(message) + "}",
      ));
    }
    notify_logging_message(block("{\"level\":\"info\",\"logger\":\"steps\",\"data\":" + jsonString(message) + "}"));
  }
  return textResult("did " + count.toString() + " steps", false);
}

export function call_tool(): i32 {
  beginCall();
  const input = inputString();
  const request = rawField(input, "request");
  const context = rawField(input, "context");
  if (context.length == 0) return fail("call_tool: the input has no \"context\"");
  const name = stringField(request, "name");
  const args = rawField(request, "arguments");
  if (name == "word_stats") outputString(wordStats(args));
  else if (name == "steps") outputString(steps(args, context));
  else outputString(textResult("unknown tool " + (name === null ? "(no name)" : name!), true));
  return 0;
}

export function get_prompt(): i32 {
  beginCall();
  const request = rawField(inputString(), "request");
  const name = stringField(request, "name");
  if (name != "summarize") return fail("unknown prompt " + (name === null ? "(no name)" : name!));
  const text = stringField(rawField(request, "arguments"), "text");
  if (text === null) return fail("summarize: the \"text\" argument is required");
  outputString(
    "{\"description\":\"Summarize a text\",\"messages\":[{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":" +
      jsonString("Summarize this in one sentence:\n\n" + text!) + "}}]}",
  );
  return 0;
}

export function read_resource(): i32 {
  beginCall();
  const uri = stringField(rawField(inputString(), "request"), "uri");
  if (uri === null) return fail("read_resource: no uri");
  let text = "";
  const u = uri!;
  if (u == "memo://readme") text = "This plugin speaks hyper-mcp's interface 2.";
  else if (u.startsWith("memo://notes/") && u.length > 13) text = "Note " + u.substring(13);
  else return fail("no such resource: " + u);
  outputString("{\"contents\":[{\"uri\":" + jsonString(u) + ",\"mimeType\":\"text/plain\",\"text\":" + jsonString(text) + "}]}");
  return 0;
}
