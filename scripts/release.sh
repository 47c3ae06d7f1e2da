#!/usr/bin/env bash
# Builds the release archive and the Python wheel of ferry (issue 19: install anywhere):
#
#   dist/ferry-VERSION-linux-x86_64.tar.gz   unpack into a prefix (/usr/local, ~/.local, any folder):
#       bin/ferry, bin/ferry-example-trainer        release build, --static-swift-stdlib
#       share/ferry/templates/                      found by ferry relative to its own executable
#       share/bash-completion/completions/ferry, share/zsh/site-functions/_ferry,
#       share/fish/vendor_completions.d/ferry.fish  shell completions
#       share/doc/ferry/                            README, docs/, LICENSE (Apache-2.0)
#   dist/ferry_fl-VERSION-py3-none-manylinux_2_NN_x86_64.whl
#       the Python client library (python/, `import ferry`) with that same tree inside the package
#       (ferry/_bundle/), and a `ferry` console script that execs the bundled binary; the licence
#       in its metadata (License-Expression: Apache-2.0, .dist-info/licenses/LICENSE).
#
# The binaries need glibc and libarchive (libarchive13 on Debian/Ubuntu) at run time and nothing
# else: the Swift runtime, Foundation, libstdc++ and libgcc are linked statically. VERSION is
# FerryVersion.current; `ferry --version` shows it and the commit.
# Usage: scripts/release.sh [--skip-build]   (--skip-build packages the existing release build)
# Test the result with scripts/release-test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

skip_build=0
case "${1:-}" in
  --skip-build) skip_build=1 ;;
  "") ;;
  *) echo "usage: scripts/release.sh [--skip-build]" >&2; exit 2 ;;
esac

version=$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/FerryRuntime/Support/FerryVersion.swift)
[ -n "$version" ] || { echo "release.sh: no version in Sources/FerryRuntime/Support/FerryVersion.swift" >&2; exit 1; }
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit-modified"; fi
arch=$(uname -m)
[ "$(uname -s)" = Linux ] || { echo "release.sh: builds Linux archives only (this is $(uname -s))" >&2; exit 1; }

# The commit for `ferry --version`: a file git ignores, compiled only with -DFERRY_RELEASE.
stamp=Sources/ferry/Support/BuildStamp.generated.swift
new_stamp="// Written by scripts/release.sh; do not edit, do not commit.
#if FERRY_RELEASE
extension BuildStamp {
    static let releaseCommit: String? = \"$commit\"
}
#endif"
# Rewritten only when it changes, so a repeated run does not recompile the ferry module.
if [ "$(cat "$stamp" 2>/dev/null)" != "$new_stamp" ]; then printf '%s\n' "$new_stamp" > "$stamp"; fi

# The GCC runtime (libstdc++, which the static Swift runtime and Foundation's ICU need, and
# libgcc_s) is linked statically too. swiftc names `-lstdc++` itself, so clang's -static-libstdc++
# does not apply to it: a folder holding only libstdc++.a, searched before the compiler's own
# (where libstdc++.so sits), makes that -lstdc++ find the archive. -static-libgcc links libgcc_eh
# in place of libgcc_s.
static_cxx=.build/static-cxx
libstdcxx=$(clang -print-file-name=libstdc++.a 2>/dev/null || true)
if [ ! -f "$libstdcxx" ]; then
  echo "release.sh: no libstdc++.a (clang -print-file-name=libstdc++.a): install libstdc++-12-dev (Debian) or libstdc++-static (RHEL)" >&2
  exit 1
fi
mkdir -p "$static_cxx" && ln -sfn "$libstdcxx" "$static_cxx/libstdc++.a"
if [ "$skip_build" = 0 ]; then
  scripts/ensure-deps.sh
  swift build -c release --static-swift-stdlib -Xswiftc -DFERRY_RELEASE \
    -Xswiftc -L"$(pwd)/$static_cxx" -Xswiftc -Xclang-linker -Xswiftc -static-libgcc
fi
bin_dir=$(swift build -c release --show-bin-path)

name="ferry-$version-linux-$arch"
stage="dist/stage/$name"
rm -rf "$stage" && mkdir -p "$stage/bin" "$stage/share/ferry" "$stage/share/doc/ferry"
for tool in ferry ferry-example-trainer; do
  cp "$bin_dir/$tool" "$stage/bin/$tool"
  if command -v strip >/dev/null 2>&1; then strip "$stage/bin/$tool"; fi
done
cp -R templates "$stage/share/ferry/templates"
cp README.md "$stage/share/doc/ferry/"
cp -R docs "$stage/share/doc/ferry/docs"
cp LICENSE "$stage/share/doc/ferry/"
mkdir -p "$stage/share/bash-completion/completions" "$stage/share/zsh/site-functions" \
  "$stage/share/fish/vendor_completions.d"
"$stage/bin/ferry" --generate-completion-script bash > "$stage/share/bash-completion/completions/ferry"
"$stage/bin/ferry" --generate-completion-script zsh > "$stage/share/zsh/site-functions/_ferry"
"$stage/bin/ferry" --generate-completion-script fish > "$stage/share/fish/vendor_completions.d/ferry.fish"

archive="dist/$name.tar.gz"
# Reproducible: fixed owner and sorted names (the binaries themselves carry the build).
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$stage" -czf "$archive" .
echo "wrote $archive"

# The wheel's platform tag: the newest glibc symbol version the binaries need.
glibc=$(objdump -T "$stage/bin/ferry" "$stage/bin/ferry-example-trainer" | grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2 -n -u | tail -n 1)
plat="manylinux_2_${glibc#GLIBC_2.}_$arch"

venv=.build/release-venv
py="$venv/bin/python"
# setuptools 77 or later: the SPDX `license` of python/pyproject.toml (PEP 639).
if ! "$py" -c "import sys, setuptools, wheel; sys.exit(int(setuptools.__version__.split('.')[0]) < 77)" >/dev/null 2>&1; then
  [ -x "$py" ] || python3 -m venv "$venv"
  "$py" -m pip --disable-pip-version-check --quiet install "setuptools>=77" wheel
fi
wheel_src="dist/stage/python"
rm -rf "$wheel_src" && mkdir -p "$wheel_src"
# LICENSE beside pyproject.toml: setuptools puts it in the wheel's .dist-info/licenses/.
cp -R python/ferry python/README.md LICENSE "$wheel_src/"
cp -R "$stage" "$wheel_src/ferry/_bundle"
find "$wheel_src" -name __pycache__ -prune -exec rm -rf {} +
# python/pyproject.toml plus the bundle as package data and the `ferry` console script.
python3 - "$version" python/pyproject.toml "$wheel_src/pyproject.toml" <<'EOF'
import sys
version, source, target = sys.argv[1:]
text = open(source).read()
if f'version = "{version}"' not in text:
    sys.exit(f"release.sh: python/pyproject.toml's version is not {version} (FerryVersion.current): make them equal")
text = text.replace('[tool.setuptools]\n', '[project.scripts]\nferry = "ferry._bundled:main"\n\n[tool.setuptools]\n', 1)
text += '\n[tool.setuptools.package-data]\nferry = ["_bundle/**/*"]\n'
open(target, "w").write(text)
EOF
wheel_out="dist/stage/wheel"
rm -rf "$wheel_out" && mkdir -p "$wheel_out"
"$py" -m pip --disable-pip-version-check --quiet wheel --no-deps --no-build-isolation -w "$wheel_out" "$wheel_src"
built=$(ls "$wheel_out"/ferry_fl-"$version"-*.whl)
"$py" -m wheel tags --python-tag py3 --abi-tag none --platform-tag "$plat" --remove "$built" >/dev/null
rm -f dist/ferry_fl-"$version"-*.whl
mv "$wheel_out"/ferry_fl-"$version"-py3-none-"$plat".whl dist/
echo "wrote dist/ferry_fl-$version-py3-none-$plat.whl"
