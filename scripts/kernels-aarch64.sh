#!/usr/bin/env bash
# Checks that the quantization kernels give the same bytes on aarch64 as on x86-64, without an ARM
# machine: builds the C kernels (Sources/CFerryQuantKernels) with scripts/kernel-hashes.c for this
# x86-64 host (every level: scalar, portable, avx2, avx512 as the CPU has them) and, with clang's
# aarch64 target, for aarch64 (scalar and portable, whose C vector code becomes NEON), runs the
# latter under qemu-user, and compares every output's hash across all runs.
# Installs qemu-user-static, libc6-dev-arm64-cross and libgcc-12-dev-arm64-cross through apt when
# missing. Exit 0 when every output agrees, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(uname -m)" = x86_64 ] || { echo "kernels-aarch64.sh: runs on an x86-64 host" >&2; exit 1; }
need=()
command -v qemu-aarch64-static >/dev/null 2>&1 || need+=(qemu-user-static)
[ -f /usr/aarch64-linux-gnu/lib/libc.a ] || need+=(libc6-dev-arm64-cross)
ls /usr/lib/gcc-cross/aarch64-linux-gnu/*/libgcc.a >/dev/null 2>&1 || need+=(libgcc-12-dev-arm64-cross)
if [ ${#need[@]} -gt 0 ]; then
  echo "kernels-aarch64.sh: installing ${need[*]}" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
work=$(mktemp -d /tmp/ferry-kernels.XXXXXX)
trap 'rm -rf "$work"' EXIT
kernels=Sources/CFerryQuantKernels
clang -O3 -I"$kernels/include" "$kernels"/*.c scripts/kernel-hashes.c -o "$work/x86_64" -lpthread -lm
clang --target=aarch64-linux-gnu --sysroot=/usr/aarch64-linux-gnu --gcc-toolchain=/usr -fuse-ld=lld -static \
  -O3 -I"$kernels/include" "$kernels"/*.c scripts/kernel-hashes.c -o "$work/aarch64" -lpthread -lm
"$work/x86_64" > "$work/x86_64.txt"
qemu-aarch64-static "$work/aarch64" > "$work/aarch64.txt"
python3 - "$work/x86_64.txt" "$work/aarch64.txt" <<'PY'
import collections, os, sys
levels = ("scalar", "portable", "avx2", "avx512")
runs = collections.defaultdict(dict)
for path in sys.argv[1:]:
    arch = os.path.basename(path).removesuffix(".txt")
    for line in open(path):
        parts = line.split()
        i = next(k for k, p in enumerate(parts) if p in levels)
        runs[" ".join(parts[:i])][f"{arch} {parts[i]}"] = " ".join(parts[i + 1:])
names = sorted({run for r in runs.values() for run in r})
differ = {out: r for out, r in runs.items() if len(set(r.values())) != 1}
for out, r in differ.items():
    print(f"kernels-aarch64: DIFFERENT: {out}: " + "; ".join(f"{k}={v}" for k, v in r.items()))
print(f"kernels-aarch64: {len(runs)} outputs, each from {', '.join(names)}: "
      + ("all identical" if not differ else f"{len(differ)} differ"))
sys.exit(1 if differ else 0)
PY
