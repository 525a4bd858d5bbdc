;; Core module behind the foreign component (see foreign.wit).
(module
  (import "wasmforge:foreign/host@0.1.0" "ping" (func $ping (result i32)))
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "call-host") (result i32) (call $ping)))
