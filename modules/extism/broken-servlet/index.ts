// broken-servlet — an interface-1 plugin that breaks the contract in the way its config asks,
// so one module can exercise every failure:
//
//   config mode = "bad_json"   describe returns text that is not JSON
//   config mode = "bad_shape"  describe returns JSON that is not a tool list
//   config mode = "bad_name"   describe lists a tool whose name breaks the naming rule
//   config mode = "hang"       describe never returns
//   (no mode)                  describe is fine; its tools misbehave when called:
//       not_json    call returns text that is not JSON
//       bad_result  call returns JSON that is not a CallToolResult
//       fine        call returns a proper result
import { beginCall, inputString, outputString } from "../pdk";
import { config, rawField, stringField, textResult } from "../mcp-pdk";

const OPEN = "{\"type\":\"object\",\"properties\":{}}";

export function describe(): i32 {
  beginCall();
  const mode = config("mode");
  if (mode == "bad_json") {
    outputString("{\"tools\": [ {\"name\": \"oops\", ");
  } else if (mode == "bad_shape") {
    outputString("{\"tools\":{\"name\":\"not_a_list\"}}");
  } else if (mode == "hang") {
    let spins: u64 = 0;
    while (mode.length > 0) spins++;
    outputString(spins.toString());
  } else if (mode == "bad_name") {
    outputString("{\"tools\":[{\"name\":\"bad name!\",\"description\":\"spaces are not allowed\",\"inputSchema\":" + OPEN + "}]}");
  } else {
    outputString(
      "{\"tools\":[" +
        "{\"name\":\"not_json\",\"description\":\"returns text that is not JSON\",\"inputSchema\":" + OPEN + "}," +
        "{\"name\":\"bad_result\",\"description\":\"returns JSON that is not a CallToolResult\",\"inputSchema\":" + OPEN + "}," +
        "{\"name\":\"fine\",\"description\":\"works\",\"inputSchema\":" + OPEN + "}" +
        "]}",
    );
  }
  return 0;
}

export function call(): i32 {
  beginCall();
  const name = stringField(rawField(inputString(), "params"), "name");
  if (name == "not_json") outputString("this is not JSON");
  else if (name == "bad_result") outputString("{\"content\":\"should be a list\"}");
  else outputString(textResult("still fine", false));
  return 0;
}
