(module
  (import "wasi:sockets/tcp-create-socket@0.2.3" "create-tcp-socket" (func $create (param i32 i32)))
  (import "wasi:sockets/tcp@0.2.3" "[resource-drop]tcp-socket" (func $drop (param i32)))
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) unreachable)
  ;; result<_, error-code>: discriminant byte at 0, the enum byte at 1
  (func (export "open-socket") (result i32)
    (call $create (i32.const 0) (i32.const 64))          ;; ipv4; result<tcp-socket, error-code> at 64
    (if (i32.eqz (i32.load8_u (i32.const 64)))
      (then (call $drop (i32.load (i32.const 68)))
            (i32.store8 (i32.const 128) (i32.const 0)))
      (else (i32.store8 (i32.const 128) (i32.const 1))
            (i32.store8 (i32.const 129) (i32.load8_u (i32.const 68)))))
    (i32.const 128))
)
