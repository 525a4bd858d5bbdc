;; log-plugin.wat — an Extism plugin that logs three messages during a call. It serves
;; tools-call-with-logging (2025-11-25) as test_tool_with_logging: WasmForge sends each line to the
;; calling client once it has asked for a log level (logging/setLevel).
;; Compiled at run time by bench/conformance.mjs with the `wabt` dev dependency.
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "log_info" (func $log_info (param i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))

  (memory (export "memory") 1)
  (data (i32.const 16) "step 1 of 3")
  (data (i32.const 32) "step 2 of 3")
  (data (i32.const 48) "step 3 of 3")
  (data (i32.const 64) "logged 3 messages")

  ;; copies guest memory [ptr, ptr+len) into a new Extism block and returns its offset
  (func $block (param $ptr i32) (param $len i32) (result i64)
    (local $offs i64) (local $i i32)
    (local.set $offs (call $alloc (i64.extend_i32_u (local.get $len))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (call $store_u8 (i64.add (local.get $offs) (i64.extend_i32_u (local.get $i)))
                        (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $offs))

  ;; log_thrice() -> 0: three info log lines, then a text output
  (func (export "log_thrice") (result i32)
    (local $out i64)
    (call $log_info (call $block (i32.const 16) (i32.const 11)))
    (call $log_info (call $block (i32.const 32) (i32.const 11)))
    (call $log_info (call $block (i32.const 48) (i32.const 11)))
    (local.set $out (call $block (i32.const 64) (i32.const 17)))
    (call $output_set (local.get $out) (call $length (local.get $out)))
    (i32.const 0))
)
