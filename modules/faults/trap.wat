;; trap.wat — functions that trap.
(module
  ;; crash() -> always traps (unreachable)
  (func $crash (export "crash") (result i32)
    (unreachable))

  ;; divide(a, b) -> a / b (signed); traps with "divide by zero" when b = 0
  ;; and with "integer overflow" for -2147483648 / -1
  (func $divide (export "divide") (param $a i32) (param $b i32) (result i32)
    (i32.div_s (local.get $a) (local.get $b)))
)
