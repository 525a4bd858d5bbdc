;; stdout.wat — writes to stdout and stderr through WASI fd_write. A host that
;; speaks MCP over stdio must not let this text reach its own stdout.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param $fd i32) (param $iovs i32) (param $iovs_len i32) (param $nwritten i32) (result i32)))
  (memory (export "memory") 1)

  (data (i32.const 64) "hello from the module on stdout\n")  ;; 32 bytes
  (data (i32.const 128) "and on stderr\n")                   ;; 14 bytes

  ;; shout() -> 1 after writing one line to fd 1 and one to fd 2
  (func $shout (export "shout") (result i32)
    ;; iovec at 16: { buf = 64, len = 32 }
    (i32.store (i32.const 16) (i32.const 64))
    (i32.store (i32.const 20) (i32.const 32))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))
    ;; iovec at 32: { buf = 128, len = 14 }
    (i32.store (i32.const 32) (i32.const 128))
    (i32.store (i32.const 36) (i32.const 14))
    (drop (call $fd_write (i32.const 2) (i32.const 32) (i32.const 1) (i32.const 8)))
    (i32.const 1))
)
