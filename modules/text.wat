;; text.wat — string-oriented example module WITH an allocator.
;;
;; Memory protocol: the host calls alloc(len) to get space for an input string,
;; writes the UTF-8 bytes there, calls the function with (ptr, len) and then
;; dealloc(ptr, len). Functions returning text return an i64 packed as
;; (result_ptr << 32) | result_len; the result is allocated with alloc and the
;; host calls dealloc(result_ptr, result_len) once it has read it.
;;
;; The allocator is a bump allocator with a count of live allocations: when the
;; count drops back to 0 the bump pointer returns to the start of the heap, so
;; repeated alloc/dealloc cycles never grow memory.
(module
  (memory (export "memory") 1)

  (global $heap_start i32 (i32.const 1024))
  (global $bump (mut i32) (i32.const 1024))
  (global $live (mut i32) (i32.const 0))

  ;; static strings (all below 1024)
  (data (i32.const 0)   "{\"valid\":true,\"scheme\":\"")   ;; 24
  (data (i32.const 32)  "\",\"host\":\"")                  ;; 10
  (data (i32.const 48)  "\",\"length\":")                  ;; 11
  (data (i32.const 64)  "{\"valid\":false,\"reason\":\"")  ;; 25
  (data (i32.const 96)  "empty")                          ;; 5
  (data (i32.const 112) "missing scheme")                 ;; 14
  (data (i32.const 128) "missing host")                   ;; 12
  (data (i32.const 144) "Hello from WasmForge!")          ;; 21
  (data (i32.const 176) "0123456789abcdef")               ;; hex digits

  ;; ---------------------------------------------------------------- allocator

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

  ;; ------------------------------------------------------------------ helpers

  (func $is_space (param $c i32) (result i32)
    (i32.or (i32.eq (local.get $c) (i32.const 0x20))
            (i32.lt_u (i32.sub (local.get $c) (i32.const 9)) (i32.const 5))))

  ;; copy n bytes from src to dst, return dst + n
  (func $put (param $dst i32) (param $src i32) (param $n i32) (result i32)
    (memory.copy (local.get $dst) (local.get $src) (local.get $n))
    (i32.add (local.get $dst) (local.get $n)))

  ;; write n bytes as the contents of a JSON string (escaping " \ and controls)
  (func $put_escaped (param $dst i32) (param $src i32) (param $n i32) (result i32)
    (local $i i32) (local $c i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.load8_u (i32.add (local.get $src) (local.get $i))))
        (if (i32.or (i32.eq (local.get $c) (i32.const 0x22)) (i32.eq (local.get $c) (i32.const 0x5c)))
          (then
            (i32.store8 (local.get $dst) (i32.const 0x5c))
            (i32.store8 offset=1 (local.get $dst) (local.get $c))
            (local.set $dst (i32.add (local.get $dst) (i32.const 2))))
          (else
            (if (i32.lt_u (local.get $c) (i32.const 0x20))
              (then
                ;; \u00XX
                (i32.store8 (local.get $dst) (i32.const 0x5c))
                (i32.store8 offset=1 (local.get $dst) (i32.const 0x75))
                (i32.store8 offset=2 (local.get $dst) (i32.const 0x30))
                (i32.store8 offset=3 (local.get $dst) (i32.const 0x30))
                (i32.store8 offset=4 (local.get $dst)
                  (i32.load8_u offset=176 (i32.shr_u (local.get $c) (i32.const 4))))
                (i32.store8 offset=5 (local.get $dst)
                  (i32.load8_u offset=176 (i32.and (local.get $c) (i32.const 15))))
                (local.set $dst (i32.add (local.get $dst) (i32.const 6))))
              (else
                (i32.store8 (local.get $dst) (local.get $c))
                (local.set $dst (i32.add (local.get $dst) (i32.const 1)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $dst))

  ;; write n (unsigned) in decimal, return the new end
  (func $put_u32 (param $dst i32) (param $n i32) (result i32)
    (local $digits i32) (local $t i32) (local $end i32)
    (local.set $t (local.get $n))
    (loop $count
      (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
      (local.set $t (i32.div_u (local.get $t) (i32.const 10)))
      (br_if $count (local.get $t)))
    (local.set $end (i32.add (local.get $dst) (local.get $digits)))
    (local.set $t (local.get $end))
    (loop $write
      (local.set $t (i32.sub (local.get $t) (i32.const 1)))
      (i32.store8 (local.get $t)
        (i32.add (i32.const 0x30) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $write (i32.gt_u (local.get $t) (local.get $dst))))
    (local.get $end))

  ;; allocate and return {"valid":false,"reason":"<reason>"}
  (func $invalid (param $reason i32) (param $reason_len i32) (result i64)
    (local $out i32) (local $p i32)
    (local.set $out (call $alloc (i32.add (local.get $reason_len) (i32.const 27))))
    (if (i32.eqz (local.get $out)) (then (unreachable)))
    (local.set $p (call $put (local.get $out) (i32.const 64) (i32.const 25)))
    (local.set $p (call $put (local.get $p) (local.get $reason) (local.get $reason_len)))
    (i32.store16 (local.get $p) (i32.const 0x7d22)) ;; "}
    (call $pack (local.get $out) (i32.add (local.get $reason_len) (i32.const 27))))

  ;; ------------------------------------------------------------------ exports

  ;; count_words(ptr, len) -> number of whitespace-separated words
  (func $count_words (export "count_words") (param $ptr i32) (param $len i32) (result i32)
    (local $i i32) (local $in_word i32) (local $count i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (if (call $is_space (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
          (then (local.set $in_word (i32.const 0)))
          (else
            (if (i32.eqz (local.get $in_word))
              (then
                (local.set $in_word (i32.const 1))
                (local.set $count (i32.add (local.get $count) (i32.const 1)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $count))

  ;; describe_url(ptr, len) -> packed ptr/len of a JSON description:
  ;;   {"valid":true,"scheme":"https","host":"example.com","length":19}
  ;;   {"valid":false,"reason":"empty" | "missing scheme" | "missing host"}
  ;; The scheme is everything before "://" (must be non-empty letters, digits,
  ;; '+', '-' or '.'), the host runs up to the first '/', '?', '#', ':' or the end
  ;; (a "user@" prefix is dropped).
  (func $describe_url (export "describe_url") (param $ptr i32) (param $len i32) (result i64)
    (local $i i32) (local $c i32) (local $scheme_len i32)
    (local $host i32) (local $host_len i32) (local $out i32) (local $p i32)
    (if (i32.eqz (local.get $len))
      (then (return (call $invalid (i32.const 96) (i32.const 5)))))
    ;; scheme: scan allowed characters, then require "://"
    (block $scheme_end
      (loop $next
        (br_if $scheme_end (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $c (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
        (br_if $scheme_end
          (i32.eqz
            (i32.or
              (i32.or
                (i32.lt_u (i32.sub (i32.or (local.get $c) (i32.const 0x20)) (i32.const 0x61)) (i32.const 26))
                (i32.lt_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 10)))
              (i32.or
                (i32.eq (local.get $c) (i32.const 0x2b))
                (i32.or (i32.eq (local.get $c) (i32.const 0x2d)) (i32.eq (local.get $c) (i32.const 0x2e)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.set $scheme_len (local.get $i))
    (if (i32.or
          (i32.eqz (local.get $scheme_len))
          (i32.gt_u (i32.add (local.get $i) (i32.const 3)) (local.get $len)))
      (then (return (call $invalid (i32.const 112) (i32.const 14)))))
    (if (i32.or
          (i32.ne (i32.load8_u (i32.add (local.get $ptr) (local.get $i))) (i32.const 0x3a))
          (i32.ne (i32.load16_u offset=1 (i32.add (local.get $ptr) (local.get $i))) (i32.const 0x2f2f)))
      (then (return (call $invalid (i32.const 112) (i32.const 14)))))
    ;; host
    (local.set $i (i32.add (local.get $i) (i32.const 3)))
    (local.set $host (i32.add (local.get $ptr) (local.get $i)))
    (block $host_end
      (loop $next
        (br_if $host_end (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $c (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
        (br_if $host_end
          (i32.or
            (i32.or (i32.eq (local.get $c) (i32.const 0x2f)) (i32.eq (local.get $c) (i32.const 0x3f)))
            (i32.or (i32.eq (local.get $c) (i32.const 0x23)) (i32.eq (local.get $c) (i32.const 0x3a)))))
        (if (i32.eq (local.get $c) (i32.const 0x40))
          (then
            ;; user@host: drop the userinfo
            (local.set $host (i32.add (i32.add (local.get $ptr) (local.get $i)) (i32.const 1)))
            (local.set $host_len (i32.const -1))))
        (local.set $host_len (i32.add (local.get $host_len) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (if (i32.eqz (local.get $host_len))
      (then (return (call $invalid (i32.const 128) (i32.const 12)))))
    ;; worst case: 24 + scheme + 10 + 6*host + 11 + 10 digits + 1
    (local.set $out
      (call $alloc
        (i32.add (i32.add (local.get $scheme_len) (i32.mul (local.get $host_len) (i32.const 6)))
                 (i32.const 56))))
    (if (i32.eqz (local.get $out)) (then (unreachable)))
    (local.set $p (call $put (local.get $out) (i32.const 0) (i32.const 24)))
    (local.set $p (call $put (local.get $p) (local.get $ptr) (local.get $scheme_len)))
    (local.set $p (call $put (local.get $p) (i32.const 32) (i32.const 10)))
    (local.set $p (call $put_escaped (local.get $p) (local.get $host) (local.get $host_len)))
    (local.set $p (call $put (local.get $p) (i32.const 48) (i32.const 11)))
    (local.set $p (call $put_u32 (local.get $p) (local.get $len)))
    (i32.store8 (local.get $p) (i32.const 0x7d)) ;; }
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (call $pack (local.get $out) (i32.sub (local.get $p) (local.get $out))))

  ;; greeting() -> packed ptr/len of "Hello from WasmForge!"
  (func $greeting (export "greeting") (result i64)
    (local $out i32)
    (local.set $out (call $alloc (i32.const 21)))
    (if (i32.eqz (local.get $out)) (then (unreachable)))
    (memory.copy (local.get $out) (i32.const 144) (i32.const 21))
    (call $pack (local.get $out) (i32.const 21)))
)
