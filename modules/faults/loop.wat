;; loop.wat — a function that never returns (for timeout / interruption tests).
(module
  ;; spin() -> never returns
  (func $spin (export "spin") (result i32)
    (loop $forever
      (br $forever))
    (i32.const 0))

  ;; ok() -> 1, to check the module still works after a spin was interrupted
  (func $ok (export "ok") (result i32)
    (i32.const 1))
)
