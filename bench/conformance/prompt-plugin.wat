;; prompt-plugin.wat — a self-describing Extism plugin (hyper-mcp interface 2: `list_tools` +
;; `call_tool`, with `list_prompts` + `get_prompt`) offering the two prompts the MCP conformance
;; scenarios ask for whose messages are not plain text, which config [[prompts]] cannot give:
;;   test_prompt_with_image              an image message, then a text message (prompts-get-with-image)
;;   test_prompt_with_embedded_resource  an embedded resource at the `resourceUri` argument, then a text
;;                                       message (prompts-get-embedded-resource)
;; It has no tools. get_prompt finds the prompt's name in its input
;; ({"request":{"name":...,"arguments":{...}},"context":{...}}) and answers with a GetPromptResult.
;; Compiled at run time by bench/conformance.mjs with the `wabt` dev dependency.
(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/env" "error_set" (func $error_set (param i64)))

  (memory (export "memory") 1)

  ;; Every string is NUL-terminated, so no length is written by hand.
  (data (i32.const 0x0100) "{\"tools\":[]}\00")
  (data (i32.const 0x0180)
    "{\"content\":[{\"type\":\"text\",\"text\":\"prompt-plugin has no tools\"}],\"isError\":true}\00")
  (data (i32.const 0x0200)
    "{\"prompts\":["
    "{\"name\":\"test_prompt_with_image\",\"description\":\"A prompt with an image\"},"
    "{\"name\":\"test_prompt_with_embedded_resource\",\"description\":\"A prompt embedding a resource\","
    "\"arguments\":[{\"name\":\"resourceUri\",\"description\":\"URI of the resource to embed\",\"required\":true}]}"
    "]}\00")

  (data (i32.const 0x0800) "\"test_prompt_with_image\"\00")
  (data (i32.const 0x0840) "\"test_prompt_with_embedded_resource\"\00")
  (data (i32.const 0x0880) "\"resourceUri\":\"\00")
  (data (i32.const 0x08c0) "get_prompt: unknown prompt\00")
  (data (i32.const 0x0900) "get_prompt: missing argument \"resourceUri\"\00")

  (data (i32.const 0x1000)
    "{\"messages\":["
    "{\"role\":\"user\",\"content\":{\"type\":\"image\",\"mimeType\":\"image/png\","
    "\"data\":\"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC\"}},"
    "{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":\"Please analyze the image above.\"}}"
    "]}\00")
  ;; the embedded-resource answer, in two halves around the URI
  (data (i32.const 0x1400)
    "{\"messages\":[{\"role\":\"user\",\"content\":{\"type\":\"resource\",\"resource\":{\"uri\":\"\00")
  (data (i32.const 0x1500)
    "\",\"mimeType\":\"text/plain\",\"text\":\"Embedded resource content for testing.\"}}},"
    "{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":\"Please process the embedded resource above.\"}}"
    "]}\00")

  ;; The input is copied to 0x8000 (at most 16 KiB), the answer is built at 0xc000 (at most 16 KiB).
  (global $input i32 (i32.const 0x8000))
  (global $input_len (mut i32) (i32.const 0))
  (global $out i32 (i32.const 0xc000))
  (global $out_len (mut i32) (i32.const 0))

  (func $strlen (param $ptr i32) (result i32)
    (local $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $ptr) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $n))

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

  ;; appends [ptr, ptr+len) to the answer (dropping what does not fit)
  (func $append_bytes (param $ptr i32) (param $len i32)
    (if (i32.gt_u (i32.add (global.get $out_len) (local.get $len)) (i32.const 0x4000)) (then (return)))
    (memory.copy (i32.add (global.get $out) (global.get $out_len)) (local.get $ptr) (local.get $len))
    (global.set $out_len (i32.add (global.get $out_len) (local.get $len))))

  (func $append (param $ptr i32)
    (call $append_bytes (local.get $ptr) (call $strlen (local.get $ptr))))

  (func $output
    (call $output_set (call $block (global.get $out) (global.get $out_len)) (i64.extend_i32_u (global.get $out_len))))

  ;; the plugin's answer is the NUL-terminated string at $ptr
  (func $answer (param $ptr i32)
    (global.set $out_len (i32.const 0))
    (call $append (local.get $ptr))
    (call $output))

  (func $load_input
    (local $len i32) (local $i i32)
    (local.set $len (i32.wrap_i64 (call $input_length)))
    (if (i32.gt_u (local.get $len) (i32.const 0x4000)) (then (local.set $len (i32.const 0x4000))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (i32.store8 (i32.add (global.get $input) (local.get $i))
                    (call $input_load_u8 (i64.extend_i32_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (global.set $input_len (local.get $len)))

  ;; the input offset just past the first occurrence of the NUL-terminated string at $needle, or -1
  (func $find (param $needle i32) (result i32)
    (local $n i32) (local $at i32) (local $i i32)
    (local.set $n (call $strlen (local.get $needle)))
    (block $absent
      (loop $try
        (br_if $absent (i32.gt_u (i32.add (local.get $at) (local.get $n)) (global.get $input_len)))
        (local.set $i (i32.const 0))
        (block $mismatch
          (loop $cmp
            (if (i32.ge_u (local.get $i) (local.get $n)) (then (return (i32.add (local.get $at) (local.get $n)))))
            (br_if $mismatch
              (i32.ne (i32.load8_u (i32.add (i32.add (global.get $input) (local.get $at)) (local.get $i)))
                      (i32.load8_u (i32.add (local.get $needle) (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $cmp)))
        (local.set $at (i32.add (local.get $at) (i32.const 1)))
        (br $try)))
    (i32.const -1))

  ;; fails the call with the NUL-terminated message at $ptr
  (func $fail (param $ptr i32) (result i32)
    (call $error_set (call $block (local.get $ptr) (call $strlen (local.get $ptr))))
    (i32.const 1))

  (func (export "list_tools") (result i32)
    (call $answer (i32.const 0x0100))
    (i32.const 0))

  (func (export "call_tool") (result i32)
    (call $answer (i32.const 0x0180))
    (i32.const 0))

  (func (export "list_prompts") (result i32)
    (call $answer (i32.const 0x0200))
    (i32.const 0))

  (func (export "get_prompt") (result i32)
    (local $start i32) (local $end i32)
    (call $load_input)
    (if (i32.ge_s (call $find (i32.const 0x0800)) (i32.const 0))
      (then (call $answer (i32.const 0x1000)) (return (i32.const 0))))
    (if (i32.lt_s (call $find (i32.const 0x0840)) (i32.const 0))
      (then (return (call $fail (i32.const 0x08c0)))))
    (local.set $start (call $find (i32.const 0x0880)))
    (if (i32.lt_s (local.get $start) (i32.const 0))
      (then (return (call $fail (i32.const 0x0900)))))
    ;; the argument's JSON string runs to the next unescaped quote; it is copied as it is, still escaped
    (local.set $end (local.get $start))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $end) (global.get $input_len)))
        (br_if $done (i32.eq (i32.load8_u (i32.add (global.get $input) (local.get $end))) (i32.const 0x22)))
        (if (i32.eq (i32.load8_u (i32.add (global.get $input) (local.get $end))) (i32.const 0x5c))
          (then (local.set $end (i32.add (local.get $end) (i32.const 1)))))
        (local.set $end (i32.add (local.get $end) (i32.const 1)))
        (br $next)))
    (if (i32.gt_u (local.get $end) (global.get $input_len)) (then (local.set $end (global.get $input_len))))
    (global.set $out_len (i32.const 0))
    (call $append (i32.const 0x1400))
    (call $append_bytes (i32.add (global.get $input) (local.get $start)) (i32.sub (local.get $end) (local.get $start)))
    (call $append (i32.const 0x1500))
    (call $output)
    (i32.const 0))
)
