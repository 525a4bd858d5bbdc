;; modern-plugin.wat — imitates an Extism plugin built with a newer PDK or the
;; Go (TinyGo) PDK:
;;   * imports host functions that older runtimes (e.g. @extism/extism 1.0.3)
;;     do not provide: get_log_level, log_trace
;;   * imports WASI (fd_write), exports _start, malloc and free
;;   * plugin functions are void (no i32 status result), like TinyGo's
(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param $offs i64) (result i32)))
  (import "extism:host/env" "alloc" (func $extism_alloc (param $n i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param $offs i64) (param $v i32)))
  (import "extism:host/env" "output_set" (func $output_set (param $offs i64) (param $n i64)))
  (import "extism:host/env" "length" (func $length (param $offs i64) (result i64)))
  (import "extism:host/env" "get_log_level" (func $get_log_level (result i32)))
  (import "extism:host/env" "log_trace" (func $log_trace (param $offs i64)))
  (import "extism:host/env" "log_info" (func $log_info (param $offs i64)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param $fd i32) (param $iovs i32) (param $iovs_len i32) (param $nwritten i32) (result i32)))

  (memory (export "memory") 1)

  (data (i32.const 16) "echo called")   ;; 11 bytes
  (data (i32.const 32) "shout called")  ;; 12 bytes

  ;; guest-side bump allocator (malloc/free as a C or TinyGo runtime exports)
  (global $heap (mut i32) (i32.const 1024))

  ;; _start() — WASI command entry point; nothing to do
  (func $_start (export "_start"))

  ;; malloc(size) -> ptr (never freed), 0 if memory cannot grow
  (func $malloc (export "malloc") (param $size i32) (result i32)
    (local $ptr i32) (local $end i64) (local $have i64)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
    (local.set $end (i64.add (i64.extend_i32_u (local.get $ptr)) (i64.extend_i32_u (local.get $size))))
    (local.set $have (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)))
    (if (i64.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.eq
              (memory.grow
                (i32.wrap_i64
                  (i64.shr_u
                    (i64.add (i64.sub (local.get $end) (local.get $have)) (i64.const 0xffff))
                    (i64.const 16))))
              (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $heap (i32.wrap_i64 (local.get $end)))
    (local.get $ptr))

  ;; free(ptr) — no-op
  (func $free (export "free") (param $ptr i32))

  ;; copy guest memory [ptr, ptr+len) into a new Extism block, return its offset
  (func $to_block (param $ptr i32) (param $len i32) (result i64)
    (local $offs i64) (local $i i32)
    (local.set $offs (call $extism_alloc (i64.extend_i32_u (local.get $len))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (call $store_u8
          (i64.add (local.get $offs) (i64.extend_i32_u (local.get $i)))
          (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $offs))

  ;; copy the input into a new Extism block, optionally ASCII-upper-casing it,
  ;; and make that block the output
  (func $copy_input (param $upper i32)
    (local $n i64) (local $offs i64) (local $i i64) (local $c i32)
    (local.set $n (call $input_length))
    (local.set $offs (call $extism_alloc (local.get $n)))
    (block $done
      (loop $next
        (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
        (local.set $c (call $input_load_u8 (local.get $i)))
        (if (i32.and (local.get $upper)
                     (i32.lt_u (i32.sub (local.get $c) (i32.const 0x61)) (i32.const 26)))
          (then (local.set $c (i32.sub (local.get $c) (i32.const 0x20)))))
        (call $store_u8 (i64.add (local.get $offs) (local.get $i)) (local.get $c))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $next)))
    (call $output_set (local.get $offs) (call $length (local.get $offs))))

  ;; echo() — output = input (logs "echo called" at info level if enabled)
  (func $echo (export "echo")
    ;; log levels as in the Extism runtime: trace 0, debug 1, info 2, warn 3, error 4
    (if (i32.le_s (call $get_log_level) (i32.const 2))
      (then (call $log_info (call $to_block (i32.const 16) (i32.const 11)))))
    (call $copy_input (i32.const 0)))

  ;; shout() — output = input with ASCII letters upper-cased (logs at trace level)
  (func $shout (export "shout")
    (if (i32.le_s (call $get_log_level) (i32.const 0))
      (then (call $log_trace (call $to_block (i32.const 32) (i32.const 12)))))
    (call $copy_input (i32.const 1)))
)
