#!/usr/bin/env bash
# Builds the tier binaries as static executables and prints their sizes.
#
#   scripts/build-static.sh                    # bench-host, bench-client, bench-sandbox
#   scripts/build-static.sh bench-sandbox      # just one (or several)
#
# Target: x86_64-unknown-linux-musl (installed with `rustup target add` when
# missing). ring's C and assembly need a C compiler for musl: musl-gcc
# (Debian: apt-get install musl-tools) when present, else plain gcc through
# CC_x86_64_unknown_linux_musl=gcc, which is enough for ring (no cmake).
# If the musl target cannot be installed, the binaries are built for glibc
# with +crt-static instead, and the script says so: they still run on any
# x86-64 Linux, but host-name lookups then need the NSS libraries of the
# machine they run on.
#
# The binaries are copied to target/static/ in the repository (the path is
# printed last), whatever CARGO_TARGET_DIR (or build.target-dir) says: cargo
# builds into its real target directory, which `cargo metadata` reports.
set -euo pipefail
cd "$(dirname "$0")/.."

MUSL=x86_64-unknown-linux-musl
GNU=x86_64-unknown-linux-gnu
SANDBOX_LIMIT=$((2 * 1024 * 1024))
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=(bench-host bench-client bench-sandbox)
for bin in "${bins[@]}"; do
    case "$bin" in
        bench-host | bench-client | bench-sandbox) ;;
        *)
            echo "build-static: '$bin' is not a tier binary; use bench-host, bench-client or bench-sandbox" >&2
            exit 2
            ;;
    esac
done

target=$MUSL
if ! rustup target list --installed 2>/dev/null | grep -qx "$MUSL"; then
    echo "build-static: installing the $MUSL target (rustup target add $MUSL)" >&2
    if ! rustup target add "$MUSL" >&2; then
        echo "build-static: 'rustup target add $MUSL' failed (offline? no rustup?);" \
            "falling back to $GNU with -C target-feature=+crt-static: static glibc binaries whose" \
            "host-name lookups need the NSS libraries of the machine they run on" >&2
        target=$GNU
    fi
fi

if [ "$target" = "$MUSL" ] && [ -z "${CC_x86_64_unknown_linux_musl:-}" ]; then
    if command -v musl-gcc >/dev/null 2>&1; then
        export CC_x86_64_unknown_linux_musl=musl-gcc
    elif command -v gcc >/dev/null 2>&1; then
        echo "build-static: musl-gcc not found (Debian: apt-get install musl-tools); using gcc for ring's C code" >&2
        export CC_x86_64_unknown_linux_musl=gcc
    else
        echo "build-static: no C compiler for ring's C code: install musl-tools (Debian) or gcc, or set CC_x86_64_unknown_linux_musl" >&2
        exit 1
    fi
fi

# bench-sandbox is pasted into terminals: it gets the size-tuned `sandbox`
# profile (bench-core's measured code stays at opt-level 3, see Cargo.toml),
# no built-in TLS (https downloads go through the sandbox's curl; TLS alone
# is ~680 KiB) and a non-PIE executable (no relocation table).
build() {
    local bin=$1 flags=(--release) extra=""
    if [ "$bin" = bench-sandbox ]; then
        flags=(--profile sandbox --no-default-features)
        extra="-C relocation-model=static"
    fi
    if [ "$target" = "$GNU" ]; then
        extra="$extra -C target-feature=+crt-static"
    fi
    echo "build-static: cargo build ${flags[*]} --locked --target $target -p $bin" >&2
    RUSTFLAGS="${RUSTFLAGS:-} $extra" cargo build "${flags[@]}" --locked --target "$target" -p "$bin"
}
for bin in "${bins[@]}"; do build "$bin"; done

# Where cargo put the builds: CARGO_TARGET_DIR, a config's build.target-dir
# or ./target; cargo metadata resolves all three the way the build did.
build_dir=$(cargo metadata --format-version 1 --no-deps --locked |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
out=target/static
mkdir -p "$out"
status=0
printf '%-14s %12s %9s  %s\n' binary bytes MiB linkage
for bin in "${bins[@]}"; do
    profile=release
    [ "$bin" = bench-sandbox ] && profile=sandbox
    cp "$build_dir/$target/$profile/$bin" "$out/$bin"
    size=$(stat -c %s "$out/$bin")
    # A static executable has no program interpreter (PT_INTERP).
    if LC_ALL=C readelf -l "$out/$bin" 2>/dev/null | grep -q 'Requesting program interpreter'; then
        linkage="dynamic (unexpected)"
        status=1
    else
        linkage="static ($target)"
    fi
    printf '%-14s %12d %9.2f  %s\n' "$bin" "$size" "$(awk -v s="$size" 'BEGIN { print s / 1048576 }')" "$linkage"
    if [ "$bin" = bench-sandbox ] && [ "$size" -gt "$SANDBOX_LIMIT" ]; then
        echo "build-static: bench-sandbox is $size bytes, over the 2 MiB it may have to stay pasteable" >&2
        status=1
    fi
done
echo "$out"
exit $status
