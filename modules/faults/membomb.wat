;; membomb.wat — grows memory until the engine refuses, then aborts like Rust's
;; out-of-memory handler (unreachable). Memory has NO declared maximum.
(module
  (memory (export "memory") 1)

  ;; grow() -> never returns normally: grows 16 pages (1 MiB) at a time, touching
  ;; one byte of every new chunk, and traps once memory.grow fails.
  (func $grow (export "grow") (result i32)
    (local $old i32)
    (loop $again
      (local.set $old (memory.grow (i32.const 16)))
      (if (i32.eq (local.get $old) (i32.const -1))
        (then (unreachable)))
      (i32.store8 (i32.shl (local.get $old) (i32.const 16)) (i32.const 1))
      (br $again))
    (i32.const 0))

  ;; ok() -> 1
  (func $ok (export "ok") (result i32)
    (i32.const 1))
)
