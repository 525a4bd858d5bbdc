;; bad-strings.wat — string functions that return bad results, for testing how a
;; host validates packed (ptr << 32 | len) results. Same alloc/dealloc protocol
;; as text.wat (bump allocator, resets when no allocation is live).
(module
  (memory (export "memory") 2)

  (global $heap_start i32 (i32.const 1024))
  (global $bump (mut i32) (i32.const 1024))
  (global $live (mut i32) (i32.const 0))

  ;; alloc(len) -> ptr (8-byte aligned), or 0 if memory cannot grow.
  (func $alloc (export "alloc") (param $len i32) (result i32)
    (local $ptr i32) (local $end i64) (local $have i64)
    (local.set $ptr (i32.and (i32.add (global.get $bump) (i32.const 7)) (i32.const -8)))
    (local.set $end (i64.add (i64.extend_i32_u (local.get $ptr)) (i64.extend_i32_u (local.get $len))))
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
    (global.set $bump (i32.wrap_i64 (local.get $end)))
    (global.set $live (i32.add (global.get $live) (i32.const 1)))
    (local.get $ptr))

  ;; dealloc(ptr, len): forget one live allocation; reset the heap when none remain.
  (func $dealloc (export "dealloc") (param $ptr i32) (param $len i32)
    (if (i32.gt_u (global.get $live) (i32.const 0))
      (then (global.set $live (i32.sub (global.get $live) (i32.const 1)))))
    (if (i32.eqz (global.get $live))
      (then (global.set $bump (global.get $heap_start)))))

  (func $pack (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
            (i64.extend_i32_u (local.get $len))))

  ;; allocate n bytes filled with byte c, return them packed
  (func $filled (param $n i32) (param $c i32) (result i64)
    (local $out i32)
    (local.set $out (call $alloc (local.get $n)))
    (if (i32.eqz (local.get $out)) (then (unreachable)))
    (memory.fill (local.get $out) (local.get $c) (local.get $n))
    (call $pack (local.get $out) (local.get $n)))

  ;; out_of_bounds(ptr, len) -> ptr 0x7fff0000, len 100: far outside memory
  (func $out_of_bounds (export "out_of_bounds") (param $ptr i32) (param $len i32) (result i64)
    (call $pack (i32.const 0x7fff0000) (i32.const 100)))

  ;; invalid_utf8(ptr, len) -> the 3 bytes ff fe 41 (not valid UTF-8)
  (func $invalid_utf8 (export "invalid_utf8") (param $ptr i32) (param $len i32) (result i64)
    (local $out i32)
    (local.set $out (call $alloc (i32.const 3)))
    (if (i32.eqz (local.get $out)) (then (unreachable)))
    (i32.store8 (local.get $out) (i32.const 0xff))
    (i32.store8 offset=1 (local.get $out) (i32.const 0xfe))
    (i32.store8 offset=2 (local.get $out) (i32.const 0x41))
    (call $pack (local.get $out) (i32.const 3)))

  ;; megabyte() -> exactly 1,048,576 bytes of 'x'
  (func $megabyte (export "megabyte") (result i64)
    (call $filled (i32.const 1048576) (i32.const 0x78)))

  ;; huge() -> exactly 20,971,520 bytes (20 MiB) of 'y'
  (func $huge (export "huge") (result i64)
    (call $filled (i32.const 20971520) (i32.const 0x79)))
)
