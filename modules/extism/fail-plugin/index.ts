// fail-plugin — an Extism plugin whose functions fail in different ways.
//
//   always_fail  sets an error message with error_set and returns 1
//   crash        traps (unreachable)
//   ok           outputs "fine"
import { beginCall, outputString, fail } from "../pdk";

export function always_fail(): i32 {
  beginCall();
  return fail("always_fail: this tool fails on purpose");
}

export function crash(): i32 {
  unreachable();
  return 0;
}

export function ok(): i32 {
  beginCall();
  outputString("fine");
  return 0;
}
