;; example.wat — the plain "no allocator" example module.
;;
;; Exports only numbers-in/numbers-out functions plus two string functions that
;; take (ptr, len) of a UTF-8 string the host wrote into linear memory itself
;; (there is deliberately no alloc/malloc export). Static data lives below
;; address 1024 so a host may use memory from 1024 upwards as scratch space.
(module
  (memory (export "memory") 1)

  ;; static strings
  (data (i32.const 16) "http://")   ;; 7 bytes
  (data (i32.const 32) "https://")  ;; 8 bytes

  ;; add(a, b) -> a + b
  (func $add (export "add") (param $a i32) (param $b i32) (result i32)
    (i32.add (local.get $a) (local.get $b)))

  ;; answer() -> 42
  (func $answer (export "answer") (result i32)
    (i32.const 42))

  ;; scale(value, factor) -> value * factor
  (func $scale (export "scale") (param $value f64) (param $factor f64) (result f64)
    (f64.mul (local.get $value) (local.get $factor)))

  ;; fib(n) -> n-th Fibonacci number (fib(0)=0, fib(1)=1), iterative.
  (func $fib (export "fib") (param $n i64) (result i64)
    (local $a i64) (local $b i64) (local $t i64)
    (local.set $a (i64.const 0))
    (local.set $b (i64.const 1))
    (block $done
      (loop $next
        (br_if $done (i64.le_s (local.get $n) (i64.const 0)))
        (local.set $t (i64.add (local.get $a) (local.get $b)))
        (local.set $a (local.get $b))
        (local.set $b (local.get $t))
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br $next)))
    (local.get $a))

  ;; 1 if the len bytes at ptr start with the lit_len bytes at lit.
  (func $starts_with (param $ptr i32) (param $len i32) (param $lit i32) (param $lit_len i32) (result i32)
    (local $i i32)
    (if (i32.lt_u (local.get $len) (local.get $lit_len))
      (then (return (i32.const 0))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $lit_len)))
        (if (i32.ne
              (i32.load8_u (i32.add (local.get $ptr) (local.get $i)))
              (i32.load8_u (i32.add (local.get $lit) (local.get $i))))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 1))

  ;; validate_url(ptr, len) -> 1 if the string starts with http:// or https://,
  ;; has at least one host byte that is not '/', and contains no space or
  ;; control bytes (<= 0x20 or 0x7f); otherwise 0.
  (func $validate_url (export "validate_url") (param $ptr i32) (param $len i32) (result i32)
    (local $off i32) (local $i i32) (local $c i32)
    (if (call $starts_with (local.get $ptr) (local.get $len) (i32.const 16) (i32.const 7))
      (then (local.set $off (i32.const 7)))
      (else
        (if (call $starts_with (local.get $ptr) (local.get $len) (i32.const 32) (i32.const 8))
          (then (local.set $off (i32.const 8)))
          (else (return (i32.const 0))))))
    ;; need at least one host byte
    (if (i32.ge_u (local.get $off) (local.get $len))
      (then (return (i32.const 0))))
    (if (i32.eq (i32.load8_u (i32.add (local.get $ptr) (local.get $off))) (i32.const 0x2f))
      (then (return (i32.const 0))))
    ;; no spaces / control characters anywhere
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $c (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
        (if (i32.or (i32.le_u (local.get $c) (i32.const 0x20))
                    (i32.eq (local.get $c) (i32.const 0x7f)))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 1))

  (func $is_digit (param $c i32) (result i32)
    (i32.lt_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 10)))

  ;; process_response(ptr, len) -> status code.
  ;;   "HTTP/1.1 404 Not Found" -> 404 (three digits after the first space)
  ;;   "200 OK" / "200"         -> 200 (leading number, at most 9 digits)
  ;;   anything else            -> -1
  (func $process_response (export "process_response") (param $ptr i32) (param $len i32) (result i32)
    (local $i i32) (local $c i32) (local $n i32)
    (if (i32.eqz (local.get $len)) (then (return (i32.const -1))))
    ;; leading number
    (if (call $is_digit (i32.load8_u (local.get $ptr)))
      (then
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
            (br_if $done (i32.ge_u (local.get $i) (i32.const 9)))
            (local.set $c (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
            (br_if $done (i32.eqz (call $is_digit (local.get $c))))
            (local.set $n (i32.add (i32.mul (local.get $n) (i32.const 10))
                                   (i32.sub (local.get $c) (i32.const 0x30))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        (return (local.get $n))))
    ;; find the first space
    (block $found
      (loop $next
        (if (i32.ge_u (local.get $i) (local.get $len)) (then (return (i32.const -1))))
        (br_if $found (i32.eq (i32.load8_u (i32.add (local.get $ptr) (local.get $i))) (i32.const 0x20)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    ;; need three digits after it: positions i+1, i+2, i+3
    (if (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $len))
      (then (return (i32.const -1))))
    (local.set $ptr (i32.add (local.get $ptr) (i32.add (local.get $i) (i32.const 1))))
    (local.set $i (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const 3)))
        (local.set $c (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
        (if (i32.eqz (call $is_digit (local.get $c))) (then (return (i32.const -1))))
        (local.set $n (i32.add (i32.mul (local.get $n) (i32.const 10))
                               (i32.sub (local.get $c) (i32.const 0x30))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $n))
)
