;; content-plugin.wat — a self-describing Extism plugin (hyper-mcp interface 1: `describe` + `call`)
;; whose tools return the non-text content the MCP conformance scenarios ask for: an image, audio, an
;; embedded resource, and all of them mixed. It serves tools-call-image (test_image_content),
;; tools-call-audio (test_audio_content), tools-call-embedded-resource (test_embedded_resource) and
;; tools-call-mixed-content (test_multiple_content_types), in both revisions. `describe` lists the four tools; `call` finds the tool's
;; name in its input ({"method":"tools/call","params":{"name":...}}) and answers with a fixed
;; CallToolResult. Compiled at run time by bench/conformance.mjs with the `wabt` dev dependency.
(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))

  (memory (export "memory") 1)

  ;; Every string is NUL-terminated, so no length is written by hand. Slots: 0x0100 the tool list,
  ;; 0x0800 + 32·i the name of tool i (quoted, as it appears in the input), 0x1000 + 1 KiB·i its result.
  (data (i32.const 0x0100)
    "{\"tools\":["
    "{\"name\":\"test_image_content\",\"description\":\"Returns a 1x1 red PNG\",\"inputSchema\":{\"type\":\"object\"}},"
    "{\"name\":\"test_audio_content\",\"description\":\"Returns a short silent WAV\",\"inputSchema\":{\"type\":\"object\"}},"
    "{\"name\":\"test_embedded_resource\",\"description\":\"Returns an embedded text resource\",\"inputSchema\":{\"type\":\"object\"}},"
    "{\"name\":\"test_multiple_content_types\",\"description\":\"Returns text, an image and a resource\",\"inputSchema\":{\"type\":\"object\"}}"
    "]}\00")

  (data (i32.const 0x0800) "\"test_image_content\"\00")
  (data (i32.const 0x0820) "\"test_audio_content\"\00")
  (data (i32.const 0x0840) "\"test_embedded_resource\"\00")
  (data (i32.const 0x0860) "\"test_multiple_content_types\"\00")

  (data (i32.const 0x1000)
    "{\"content\":[{\"type\":\"image\",\"mimeType\":\"image/png\","
    "\"data\":\"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC\"}]}\00")
  (data (i32.const 0x1400)
    "{\"content\":[{\"type\":\"audio\",\"mimeType\":\"audio/wav\","
    "\"data\":\"UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQgAAACAgICAgICAgA==\"}]}\00")
  (data (i32.const 0x1800)
    "{\"content\":[{\"type\":\"resource\",\"resource\":{\"uri\":\"test://embedded-resource\","
    "\"mimeType\":\"text/plain\",\"text\":\"This is an embedded resource content.\"}}]}\00")
  (data (i32.const 0x1c00)
    "{\"content\":["
    "{\"type\":\"text\",\"text\":\"Multiple content types test:\"},"
    "{\"type\":\"image\",\"mimeType\":\"image/png\","
    "\"data\":\"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC\"},"
    "{\"type\":\"resource\",\"resource\":{\"uri\":\"test://mixed-content-resource\",\"mimeType\":\"application/json\","
    "\"text\":\"{\\\"test\\\":\\\"data\\\",\\\"value\\\":123}\"}}"
    "]}\00")
  (data (i32.const 0x2000)
    "{\"content\":[{\"type\":\"text\",\"text\":\"content-plugin: unknown tool\"}],\"isError\":true}\00")

  ;; The call input is copied to 0x8000 (at most 32 KiB; the conformance calls send a few dozen bytes).
  (global $input i32 (i32.const 0x8000))
  (global $input_len (mut i32) (i32.const 0))

  (func $strlen (param $ptr i32) (result i32)
    (local $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $ptr) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $n))

  ;; sets the plugin's output to the NUL-terminated string at $ptr
  (func $output (param $ptr i32)
    (local $len i32) (local $offs i64) (local $i i32)
    (local.set $len (call $strlen (local.get $ptr)))
    (local.set $offs (call $alloc (i64.extend_i32_u (local.get $len))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (call $store_u8 (i64.add (local.get $offs) (i64.extend_i32_u (local.get $i)))
                        (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $output_set (local.get $offs) (i64.extend_i32_u (local.get $len))))

  (func $load_input
    (local $len i32) (local $i i32)
    (local.set $len (i32.wrap_i64 (call $input_length)))
    (if (i32.gt_u (local.get $len) (i32.const 0x8000)) (then (local.set $len (i32.const 0x8000))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (i32.store8 (i32.add (global.get $input) (local.get $i))
                    (call $input_load_u8 (i64.extend_i32_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (global.set $input_len (local.get $len)))

  ;; 1 when the NUL-terminated string at $needle occurs in the input
  (func $input_contains (param $needle i32) (result i32)
    (local $n i32) (local $at i32) (local $i i32)
    (local.set $n (call $strlen (local.get $needle)))
    (block $absent
      (loop $try
        (br_if $absent (i32.gt_u (i32.add (local.get $at) (local.get $n)) (global.get $input_len)))
        (local.set $i (i32.const 0))
        (block $mismatch
          (loop $cmp
            (if (i32.ge_u (local.get $i) (local.get $n)) (then (return (i32.const 1))))
            (br_if $mismatch
              (i32.ne (i32.load8_u (i32.add (i32.add (global.get $input) (local.get $at)) (local.get $i)))
                      (i32.load8_u (i32.add (local.get $needle) (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $cmp)))
        (local.set $at (i32.add (local.get $at) (i32.const 1)))
        (br $try)))
    (i32.const 0))

  (func (export "describe") (result i32)
    (call $output (i32.const 0x0100))
    (i32.const 0))

  (func (export "call") (result i32)
    (local $tool i32)
    (call $load_input)
    (block $found
      (loop $next
        (br_if $found (call $input_contains (i32.add (i32.const 0x0800) (i32.mul (local.get $tool) (i32.const 32)))))
        (local.set $tool (i32.add (local.get $tool) (i32.const 1)))
        (br_if $next (i32.lt_u (local.get $tool) (i32.const 4)))))
    ;; tool 4 (no name matched) is the error result at 0x2000
    (call $output (i32.add (i32.const 0x1000) (i32.mul (local.get $tool) (i32.const 0x400))))
    (i32.const 0))
)
