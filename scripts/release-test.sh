#!/usr/bin/env bash
# Tests what scripts/release.sh wrote to dist/ the way a site without a Swift toolchain uses it:
#   1. the archive, unpacked into an empty folder, run in a bare environment (env -i PATH=/usr/bin:/bin):
#      --version, `ferry job templates`, `ferry job create --template fedavg`, `ferry poc` of
#      jobs/hello-fedavg (which runs bin/ferry-example-trainer); the same through a symbolic link to
#      bin/ferry in another folder (as `ln -s PREFIX/bin/ferry ~/bin/`);
#   2. shared libraries, an exact allowed set: the binaries themselves need (ELF NEEDED) glibc only,
#      plus libarchive.so.13 for bin/ferry; `ldd` lists nothing beyond those and libarchive's own
#      dependencies (no Swift toolchain library, no libstdc++ or libgcc_s of ferry's own);
#   3. the licence: share/doc/ferry/LICENSE is the repository's Apache-2.0 LICENSE;
#   4. the wheel, installed into a fresh venv: `ferry` on the venv's PATH does the same, `import ferry`
#      works, and its metadata carries the licence (License-Expression: Apache-2.0, the LICENSE file).
# The release build takes many minutes (static Swift stdlib, whole-module optimisation), so it is not
# part of `swift test`: run scripts/release.sh, then this (scripts/test.sh runs it when dist/ holds an
# archive). Exit 0 when all pass, 1 on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

version=$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/FerryRuntime/Support/FerryVersion.swift)
archive="dist/ferry-$version-linux-$(uname -m).tar.gz"
wheel=$(ls dist/ferry_fl-"$version"-py3-none-manylinux_*.whl 2>/dev/null | head -n 1 || true)
if [ ! -f "$archive" ]; then
  echo "release-test: $archive is missing: run scripts/release.sh first" >&2
  exit 1
fi

work=$(mktemp -d /tmp/ferry-release-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "release-test: FAIL: $*" >&2; exit 1; }
bare() { env -i PATH=/usr/bin:/bin HOME="$work/home" "$@"; }
mkdir -p "$work/home"

# Runs the checks against one installed `ferry` ($1: how to call it, a path or a name on PATH).
check_ferry() {
  local ferry=$1 label=$2 path=$3 out
  out=$(cd "$work" && bare PATH="$path" "$ferry" --version) || fail "$label: ferry --version failed"
  case "$out" in
    "$version (commit "*")") ;;
    *) fail "$label: ferry --version printed '$out', not '$version (commit …)'" ;;
  esac
  out=$(cd "$work" && bare PATH="$path" "$ferry" job templates) || fail "$label: ferry job templates failed"
  grep -q "fedavg" <<<"$out" || fail "$label: ferry job templates lists no fedavg template: $out"
  rm -rf "$work/created"
  (cd "$work" && bare PATH="$path" "$ferry" job create "$work/created" --template fedavg >/dev/null) \
    || fail "$label: ferry job create --template fedavg failed"
  [ -f "$work/created/job.yaml" ] || fail "$label: job create wrote no job.yaml"
  rm -rf "$work/job" "$work/fed"
  cp -R "$root/jobs/hello-fedavg" "$work/job"
  (cd "$work" && bare PATH="$path" "$ferry" poc "$work/job" --workspace "$work/fed" --timeout 10m) >"$work/poc.log" 2>&1 \
    || { tail -n 40 "$work/poc.log" >&2; fail "$label: ferry poc of hello-fedavg failed (log above)"; }
  echo "release-test: $label: --version, job templates, job create, poc hello-fedavg: ok"
}

# 1. The archive in an empty folder.
prefix="$work/prefix"
mkdir -p "$prefix"
tar -xzf "$archive" -C "$prefix"
for file in bin/ferry bin/ferry-example-trainer share/ferry/templates share/doc/ferry/README.md \
  share/bash-completion/completions/ferry share/zsh/site-functions/_ferry share/fish/vendor_completions.d/ferry.fish; do
  [ -e "$prefix/$file" ] || fail "the archive has no $file"
done
check_ferry "$prefix/bin/ferry" archive /usr/bin:/bin
mkdir -p "$work/links"
ln -s "$prefix/bin/ferry" "$work/links/ferry"
check_ferry ferry "archive via a symbolic link" "$work/links:/usr/bin:/bin"

# 2. Shared libraries: glibc's, and libarchive for bin/ferry; nothing else (README: "Install").
glibc='^(linux-vdso\.so\.1|ld-linux-[a-z0-9_-]+\.so\.[0-9]+|libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libutil\.so\.1)$'
needed() { objdump -p "$1" | awk '$1 == "NEEDED" { print $2 }' | sort; }
ldd_names() { ldd "$1" | awk '$1 != "statically" { n = split($1, p, "/"); print p[n] }' | sort -u; }
# What ldd lists beyond that comes from libarchive's own package (its compression libraries, libxml2).
libarchive=$(ldd "$prefix/bin/ferry" | awk '$1 == "libarchive.so.13" { print $3 }')
[ -f "$libarchive" ] || fail "bin/ferry does not load libarchive.so.13 (install libarchive13)"
libarchive_deps=$(ldd_names "$libarchive" | grep -Ev "$glibc" || true)
for tool in ferry ferry-example-trainer; do
  libs=$(ldd "$prefix/bin/$tool")
  if grep -q 'not found' <<<"$libs"; then echo "$libs" >&2; fail "bin/$tool has unresolved libraries"; fi
  direct=$(needed "$prefix/bin/$tool")
  extra=$(grep -Ev "$glibc" <<<"$direct" || true)
  want="" allowed=""
  if [ "$tool" = ferry ]; then want=libarchive.so.13 allowed=$libarchive_deps; fi
  [ "$extra" = "$want" ] || fail "bin/$tool needs $(tr '\n' ' ' <<<"$extra")beyond glibc; allowed: ${want:-nothing}"
  for lib in $(ldd_names "$prefix/bin/$tool"); do
    grep -Eq "$glibc" <<<"$lib" && continue
    [ "$lib" = "$want" ] && continue
    grep -qxF "$lib" <<<"$allowed" || { echo "$libs" >&2; fail "bin/$tool loads $lib (above), neither glibc nor libarchive's"; }
  done
  echo "release-test: bin/$tool needs: $(tr '\n' ' ' <<<"$direct")"
done
echo "release-test: shared libraries: glibc, and libarchive for bin/ferry (libarchive brings: $(tr '\n' ' ' <<<"$libarchive_deps"))"

# 3. The licence.
cmp -s "$prefix/share/doc/ferry/LICENSE" LICENSE || fail "the archive's share/doc/ferry/LICENSE is missing or not the repository's LICENSE"
grep -q "Apache License" LICENSE && grep -q "Version 2.0, January 2004" LICENSE || fail "LICENSE is not the Apache License 2.0"
echo "release-test: archive: share/doc/ferry/LICENSE (Apache-2.0): ok"

# 4. The wheel in a fresh venv.
if [ -z "$wheel" ]; then fail "dist/ holds no ferry_fl-$version-py3-none-manylinux_*.whl"; fi
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip --disable-pip-version-check --quiet install "$wheel" \
  || fail "pip install $wheel failed"
check_ferry ferry wheel "$work/venv/bin:/usr/bin:/bin"
(cd "$work" && bare "$work/venv/bin/python" -c "import ferry, ferry._bundled as b; assert b.executable(); print(ferry.__version__)") >/dev/null \
  || fail "wheel: import ferry failed"
echo "release-test: wheel: import ferry: ok"
# The licence in the wheel's metadata, read from the installed distribution.
(cd "$work" && bare "$work/venv/bin/python" - "$root/LICENSE" <<'EOF'
import sys
from importlib.metadata import distribution
dist = distribution("ferry-fl")
expression = dist.metadata.get("License-Expression")
if expression != "Apache-2.0":
    sys.exit(f"License-Expression is {expression!r}, not 'Apache-2.0'")
files = [f for f in dist.files if f.name == "LICENSE" and f.parent.name == "licenses"]
if not files or files[0].read_text() != open(sys.argv[1]).read():
    sys.exit("the wheel's .dist-info/licenses/LICENSE is missing or not the repository's LICENSE")
EOF
) || fail "wheel: the licence metadata (above)"
echo "release-test: wheel: License-Expression: Apache-2.0, .dist-info/licenses/LICENSE: ok"
echo "release-test: all passed"
