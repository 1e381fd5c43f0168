#!/usr/bin/env bash
# Rebuilds assets/wasm/resample.wasm from src/image/resample/resample.c and
# assets/wasm/png-rows.wasm from src/image/png-rows.c and assets/wasm/unsharp.wasm from
# src/image/unsharp.c.
# Needs Debian's clang-14 and lld-14 (apt-get install -y clang-14 lld-14); the built file is
# committed, so installing imgfleet needs neither.
set -euo pipefail
cd "$(dirname "$0")/.."
clang-14 --target=wasm32 -O3 -msimd128 -nostdlib -fuse-ld=lld -Wl,--no-entry \
  -Wl,--initial-memory=33554432 -Wl,--max-memory=2147483648 \
  -o assets/wasm/resample.wasm src/image/resample/resample.c
clang-14 --target=wasm32 -O3 -msimd128 -nostdlib -fuse-ld=lld -Wl,--no-entry \
  -Wl,--initial-memory=1048576 -Wl,--max-memory=2147483648 \
  -o assets/wasm/png-rows.wasm src/image/png-rows.c
clang-14 --target=wasm32 -O3 -msimd128 -nostdlib -fuse-ld=lld -Wl,--no-entry \
  -Wl,--initial-memory=1048576 -Wl,--max-memory=2147483648 \
  -o assets/wasm/unsharp.wasm src/image/unsharp.c
ls -l assets/wasm/resample.wasm assets/wasm/png-rows.wasm assets/wasm/unsharp.wasm
