// servlet-plugin — a plugin for interface 1 (hyper-mcp "v1", mcp.run servlets): it describes its
// own tools with `describe` and serves them all through `call`.
//
//   describe  ""                                                      -> {"tools":[reverse, pixel]}
//   call      {"method":"tools/call","params":{"name":..,"arguments":{..}}} -> CallToolResult
//
//   reverse  {"text":"abc"}     -> text "cba"
//   pixel    {"color":"red"}    -> an image (1x1 PNG), the same PNG as an embedded resource, and a caption
import { beginCall, inputString, outputString, jsonString } from "../pdk";
import { rawField, stringField, textResult } from "../mcp-pdk";

const DESCRIPTION =
  "{\"tools\":[" +
  "{\"name\":\"reverse\",\"description\":\"Reverses a piece of text\"," +
  "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\",\"description\":\"Text to reverse\"}}," +
  "\"required\":[\"text\"],\"additionalProperties\":false}}," +
  "{\"name\":\"pixel\",\"description\":\"A 1x1 PNG image of the given colour\"," +
  "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"color\":{\"type\":\"string\",\"enum\":[\"red\",\"green\",\"blue\"]}}," +
  "\"required\":[\"color\"],\"additionalProperties\":false}}" +
  "]}";

export function describe(): i32 {
  beginCall();
  outputString(DESCRIPTION);
  return 0;
}

export function call(): i32 {
  beginCall();
  const input = inputString();
  // Servlets built from the mcp.run schema receive the method beside the params.
  if (stringField(input, "method") != "tools/call") {
    outputString(textResult("expected \"method\":\"tools/call\" in the call input", true));
    return 0;
  }
  const params = rawField(input, "params");
  const name = stringField(params, "name");
  const args = rawField(params, "arguments");
  if (name == "reverse") {
    const text = stringField(args, "text");
    if (text === null) {
      outputString(textResult("reverse: \"text\" must be a string", true));
      return 0;
    }
    let out = "";
    for (let i = text.length - 1; i >= 0; i--) out += text.charAt(i);
    outputString(textResult(out, false));
    return 0;
  }
  if (name == "pixel") {
    const color = stringField(args, "color");
    let png = "";
    if (color == "red") png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";
    else if (color == "green") png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgWMUAAAFYAKtetXYTAAAAAElFTkSuQmCC";
    else if (color == "blue") png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgYPgPAAEDAQAIicLsAAAAAElFTkSuQmCC";
    else {
      outputString(textResult("pixel: unknown colour", true));
      return 0;
    }
    const c = color!;
    outputString(
      "{\"content\":[" +
        "{\"type\":\"image\",\"data\":\"" + png + "\",\"mimeType\":\"image/png\"}," +
        "{\"type\":\"resource\",\"resource\":{\"uri\":\"pixel://" + c + "\",\"mimeType\":\"image/png\",\"blob\":\"" + png + "\"}}," +
        "{\"type\":\"text\",\"text\":" + jsonString("a 1x1 " + c + " pixel") + "}" +
        "]}",
    );
    return 0;
  }
  outputString(textResult("unknown tool " + (name === null ? "(no name)" : name!), true));
  return 0;
}
