;; unknown-host — an interface-2 plugin that imports a host function WasmForge does not provide
;; (hyper-mcp's create_message, sampling through the client). Loading it must fail with an error
;; naming the import; nothing here is ever called.
(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/user" "create_message" (func $create_message (param i64) (result i64)))
  (memory (export "memory") 1)
  (func (export "list_tools") (result i32)
    i32.const 0)
  (func (export "call_tool") (result i32)
    i32.const 0))
