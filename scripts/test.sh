#!/usr/bin/env bash
# The test command of oxsyslog: `bash scripts/test.sh`.
#
# Installs what the tests need when it is missing (Debian bookworm packages, rust components),
# then runs, failing fast: cargo fmt --check, cargo clippy (warnings are errors), cargo test,
# and the Debian package tier (scripts/test-deb.sh).
# Works as root (CI: no stdin, CI=true) or as a user with sudo.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# CI environments may run without HOME set.
if [ -z "${HOME:-}" ]; then
    HOME=$(getent passwd "$(id -u)" | cut -d: -f6)
    export HOME="${HOME:-/root}"
fi

banner() {
    printf '\n==== scripts/test.sh: %s ====\n' "$*"
}

die() {
    printf 'scripts/test.sh: error: %s\n' "$*" >&2
    exit 1
}

# ---------------------------------------------------------------------------------------------
# System packages
# ---------------------------------------------------------------------------------------------

# Debian packages the tests use: the reference rsyslogd (8.2302, bookworm) and its TLS/RELP
# modules (rsyslog-kafka: omkafka for tests/kafka_vs_rsyslogd.rs), logger, SoftHSM (PKCS#11 tests), openssl and gnutls tools (test certificates).
# The Debian package tier (scripts/test-deb.sh) also needs: debootstrap, debhelper, dpkg-dev, lintian, systemd
# (systemd-analyze), man-db (its man-page check), util-linux (unshare).
# The `kafka` feature builds the bundled librdkafka: a C/C++ toolchain, make, pkg-config and
# zlib's headers (build-essential, pkg-config, zlib1g-dev).
PACKAGES=(rsyslog rsyslog-gnutls rsyslog-openssl rsyslog-relp rsyslog-kafka bsdutils softhsm2 openssl gnutls-bin
    debootstrap debhelper dpkg-dev lintian systemd man-db util-linux
    build-essential pkg-config zlib1g-dev)
RSYSLOG_VERSION_PREFIX=8.2302

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    fi
fi

installed() {
    local status
    status=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) || return 1
    [ "$status" = installed ]
}

install_packages() {
    command -v dpkg-query >/dev/null 2>&1 \
        || die "dpkg-query not found: the tests need a Debian (bookworm) system"

    local missing=() p
    for p in "${PACKAGES[@]}"; do
        installed "$p" || missing+=("$p")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        return 0
    fi

    banner "installing missing Debian packages: ${missing[*]}"
    if [ "$(id -u)" -ne 0 ] && [ "${#SUDO[@]}" -eq 0 ]; then
        die "missing packages (${missing[*]}) and not root, and sudo is not available"
    fi

    # Keep the packages' maintainer scripts from starting services (a system rsyslogd the
    # tests could disturb): policy-rc.d exiting 101 forbids invoke-rc.d starts. Only ours is
    # removed afterwards; an existing policy-rc.d is left as it is.
    local policy=/usr/sbin/policy-rc.d own_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
        "${SUDO[@]}" chmod 755 "$policy"
        own_policy=1
        # shellcheck disable=SC2064
        trap "${SUDO[*]} rm -f '$policy'" EXIT
    fi

    local rc=0
    {
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q update \
            && "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
                apt-get -q install -y --no-install-recommends "${missing[@]}" </dev/null
    } || rc=$?

    if [ "$own_policy" -eq 1 ]; then
        "${SUDO[@]}" rm -f "$policy"
        trap - EXIT
    fi
    [ "$rc" -eq 0 ] || die "apt-get failed (exit $rc) installing: ${missing[*]}"

    for p in "${missing[@]}"; do
        installed "$p" || die "package $p is still not installed after apt-get install"
    done
}

install_packages

rsyslog_version=$(dpkg-query -W -f='${Version}' rsyslog 2>/dev/null || true)
case "$rsyslog_version" in
    "$RSYSLOG_VERSION_PREFIX"*) ;;
    *)
        die "the tests need Debian bookworm's rsyslog $RSYSLOG_VERSION_PREFIX (the reference implementation), but the installed rsyslog package is '${rsyslog_version:-none}'"
        ;;
esac
[ -x /usr/sbin/rsyslogd ] || die "/usr/sbin/rsyslogd is missing although the rsyslog package is installed"

# ---------------------------------------------------------------------------------------------
# Rust tools
# ---------------------------------------------------------------------------------------------

if [ -d "$HOME/.cargo/bin" ]; then
    case ":$PATH:" in
        *":$HOME/.cargo/bin:"*) ;;
        *) export PATH="$HOME/.cargo/bin:$PATH" ;;
    esac
fi
command -v cargo >/dev/null 2>&1 || die "cargo not found: install a Rust toolchain (https://rustup.rs)"

if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    if command -v rustup >/dev/null 2>&1; then
        banner "adding rust components clippy and rustfmt"
        rustup component add clippy rustfmt
    fi
fi
cargo fmt --version >/dev/null 2>&1 || die "rustfmt (cargo fmt) is not available"
cargo clippy --version >/dev/null 2>&1 || die "clippy (cargo clippy) is not available"

# Build outside the clone so CI can cache it.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/oxsyslog-target}"

printf 'scripts/test.sh: %s, %s, %s; rsyslog %s; target dir %s\n' \
    "$(cargo --version)" "$(cargo fmt --version)" "$(cargo clippy --version)" \
    "$rsyslog_version" "$CARGO_TARGET_DIR"

# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------

banner "cargo fmt --check"
cargo fmt --check

# --features kafka: omkafka with the bundled librdkafka (built by gcc/make, no cmake) and its
# tests against librdkafka's mock cluster (tests/kafka_mock.rs)
banner "cargo clippy --features kafka --all-targets -- -D warnings"
cargo clippy --features kafka --all-targets -- -D warnings

banner "cargo test --features kafka (lib, binaries, integration tests; benches are compiled by clippy and run by hand)"
cargo test --features kafka

# The slowest tier: builds the .deb, and installs it over rsyslog in a bookworm root (made once
# by debootstrap, cached in $HOME/.cache/oxsyslog-deb/). OXSYSLOG_SKIP_DEB=1 skips it.
if [ "${OXSYSLOG_SKIP_DEB:-0}" != 1 ]; then
    banner "Debian package: scripts/test-deb.sh (lintian, systemd-analyze, install over rsyslog in a bookworm root)"
    bash scripts/test-deb.sh
fi

echo
echo "scripts/test.sh: all checks passed"
