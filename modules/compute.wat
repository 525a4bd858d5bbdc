;; Compute-heavy functions for measuring what fuel metering costs (bench/meter.mjs):
;; tight memory loops, a register-only mixing loop and deep recursion.
(module
  ;; 16 MiB of input and flags, plus room
  (memory (export "memory") 260 260)

  ;; Fills [0, len) with xorshift32 bytes from `seed` (non-zero).
  (func (export "fill") (param $seed i32) (param $len i32)
    (local $i i32) (local $x i32)
    (local.set $x (local.get $seed))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
        (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
        (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
        (i32.store8 (local.get $i) (local.get $x))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; FNV-1a over [ptr, ptr + len), one byte per iteration.
  (func (export "fnv1a") (param $ptr i32) (param $len i32) (result i32)
    (local $h i32) (local $end i32)
    (local.set $h (i32.const 0x811c9dc5))
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $h (i32.mul (i32.xor (local.get $h) (i32.load8_u (local.get $ptr))) (i32.const 0x01000193)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
        (br $next)))
    (local.get $h))

  ;; Number of primes below n (n <= 16 MiB), sieve of Eratosthenes over bytes at address 0.
  (func (export "sieve") (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $count i32)
    (memory.fill (i32.const 0) (i32.const 0) (local.get $n))
    (local.set $i (i32.const 2))
    (block $done
      (loop $outer
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.eqz (i32.load8_u (local.get $i)))
          (then
            (local.set $count (i32.add (local.get $count) (i32.const 1)))
            (local.set $j (i32.mul (local.get $i) (local.get $i)))
            (block $marked
              ;; i * i overflows i32 only past 46341, where j would already exceed any n we take
              (br_if $marked (i32.gt_u (local.get $i) (i32.const 46340)))
              (loop $mark
                (br_if $marked (i32.ge_u (local.get $j) (local.get $n)))
                (i32.store8 (local.get $j) (i32.const 1))
                (local.set $j (i32.add (local.get $j) (local.get $i)))
                (br $mark)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer)))
    (local.get $count))

  ;; A SHA-like mixing loop on registers only: rounds of add, rotate, xor over four words.
  (func (export "mix") (param $rounds i32) (result i64)
    (local $a i64) (local $b i64) (local $c i64) (local $d i64)
    (local.set $a (i64.const 0x6a09e667f3bcc908))
    (local.set $b (i64.const 0xbb67ae8584caa73b))
    (local.set $c (i64.const 0x3c6ef372fe94f82b))
    (local.set $d (i64.const 0xa54ff53a5f1d36f1))
    (block $done
      (loop $round
        (br_if $done (i32.eqz (local.get $rounds)))
        (local.set $a (i64.add (local.get $a) (local.get $b)))
        (local.set $d (i64.rotl (i64.xor (local.get $d) (local.get $a)) (i64.const 32)))
        (local.set $c (i64.add (local.get $c) (local.get $d)))
        (local.set $b (i64.rotl (i64.xor (local.get $b) (local.get $c)) (i64.const 24)))
        (local.set $a (i64.add (local.get $a) (local.get $b)))
        (local.set $d (i64.rotl (i64.xor (local.get $d) (local.get $a)) (i64.const 16)))
        (local.set $c (i64.add (local.get $c) (local.get $d)))
        (local.set $b (i64.rotl (i64.xor (local.get $b) (local.get $c)) (i64.const 63)))
        (local.set $rounds (i32.sub (local.get $rounds) (i32.const 1)))
        (br $round)))
    (i64.xor (i64.xor (local.get $a) (local.get $b)) (i64.xor (local.get $c) (local.get $d))))

  ;; Naive recursive Fibonacci: almost all calls.
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else
        (i32.add
          (call $fib (i32.sub (local.get $n) (i32.const 1)))
          (call $fib (i32.sub (local.get $n) (i32.const 2))))))))
