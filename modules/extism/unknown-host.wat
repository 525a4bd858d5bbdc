;; unknown-host — an interface-2 plugin that imports a host function WasmForge does not provide
;; (hyper-mcp's get_keyring_secret, which reads the host's keyring). Loading it must fail with an error
;; naming the import; nothing here is ever called.
(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/user" "get_keyring_secret" (func $get_keyring_secret (param i64) (result i64)))
  (memory (export "memory") 1)
  (func (export "list_tools") (result i32)
    i32.const 0)
  (func (export "call_tool") (result i32)
    i32.const 0))
