;; slow.wat — busy-waits on the WASI monotonic clock (for timeout tests).
(module
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock_time_get (param $id i32) (param $precision i64) (param $time_ptr i32) (result i32)))
  (memory (export "memory") 1)

  ;; monotonic clock (id 1) in nanoseconds, or -1 on error
  (func $now (result i64)
    (if (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 8))
      (then (return (i64.const -1))))
    (i64.load (i32.const 8)))

  ;; sleep_ms(ms) -> ms after spinning for ms milliseconds; -1 if the clock fails
  (func $sleep_ms (export "sleep_ms") (param $ms i32) (result i32)
    (local $start i64) (local $now i64) (local $wait i64)
    (local.set $start (call $now))
    (if (i64.lt_s (local.get $start) (i64.const 0)) (then (return (i32.const -1))))
    (local.set $wait (i64.mul (i64.extend_i32_s (local.get $ms)) (i64.const 1000000)))
    (loop $spin
      (local.set $now (call $now))
      (if (i64.lt_s (local.get $now) (i64.const 0)) (then (return (i32.const -1))))
      (br_if $spin (i64.lt_s (i64.sub (local.get $now) (local.get $start)) (local.get $wait))))
    (local.get $ms))
)
