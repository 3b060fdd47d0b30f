#!/usr/bin/env bash
# Builds the Debian package: `bash scripts/build-deb.sh` → target/debian/oxsyslog_<version>_<arch>.deb
#
# debian/ is copied to a staging directory under Cargo's target directory (so the clone stays
# clean), oxsyslogd is built with cargo (release), and debhelper assembles the package.
# Needs debhelper and dpkg-dev (installed with apt-get when missing and running as root).
#
# Environment:
#   CARGO_TARGET_DIR      Cargo's target directory (default: $HOME/.cache/oxsyslog-target)
#   OXSYSLOG_DEB_VERSION  build this version instead of debian/changelog's (the upgrade test
#                         builds N+1 with it); a changelog entry is added in the staging copy
#   OXSYSLOG_DEB_DIR      where the .deb lands (default: target/debian in the clone)
#   OXSYSLOG_LINTIAN=1    run lintian on the result and fail on errors
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
src=$(pwd)

if [ -z "${HOME:-}" ]; then
    HOME=$(getent passwd "$(id -u)" | cut -d: -f6)
    export HOME="${HOME:-/root}"
fi
if [ -d "$HOME/.cargo/bin" ]; then
    case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) export PATH="$HOME/.cargo/bin:$PATH" ;; esac
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/oxsyslog-target}"
out="${OXSYSLOG_DEB_DIR:-$src/target/debian}"

die() { printf 'build-deb.sh: error: %s\n' "$*" >&2; exit 1; }

tools=(dh dpkg-buildpackage)
[ "${OXSYSLOG_LINTIAN:-0}" = 1 ] && tools+=(lintian)
for t in "${tools[@]}"; do
    if ! command -v "$t" >/dev/null 2>&1; then
        [ "$(id -u)" -eq 0 ] || die "$t is missing: apt-get install debhelper dpkg-dev lintian"
        DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends \
            debhelper dpkg-dev lintian </dev/null >/dev/null \
            || die "apt-get install debhelper dpkg-dev lintian failed"
        break
    fi
done
command -v cargo >/dev/null 2>&1 || die "cargo not found"

changelog_version=$(dpkg-parsechangelog -l debian/changelog -S Version)
cargo_version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -1)
[ "${changelog_version%%[-+~]*}" = "$cargo_version" ] \
    || die "debian/changelog is at $changelog_version but Cargo.toml at $cargo_version: add a changelog entry"
version="${OXSYSLOG_DEB_VERSION:-$changelog_version}"
arch=$(dpkg --print-architecture)

stage="$CARGO_TARGET_DIR/deb-staging/oxsyslog-$version"
rm -rf "$stage" "$(dirname "$stage")/oxsyslog_${version}_${arch}".*
mkdir -p "$stage" "$out"
cp -a debian "$stage/"
if [ "$version" != "$changelog_version" ]; then
    {
        printf 'oxsyslog (%s) unstable; urgency=medium\n\n  * Test build of version %s.\n\n' "$version" "$version"
        printf ' -- oxsyslog maintainers <maintainers@oxsyslog.invalid>  %s\n\n' "$(date -R)"
        cat debian/changelog
    } > "$stage/debian/changelog"
fi

# the binary, in the same environment as any `cargo build --release` (see debian/rules); with
# omkafka (feature `kafka`: librdkafka bundled and linked statically, built once per target dir)
bins=(--features kafka --bin oxsyslogd)
if grep -q '^name = "oxaudit"' Cargo.toml; then bins+=(--bin oxaudit); fi
cargo build --release --locked "${bins[@]}" > "$stage.cargo.log" 2>&1 \
    || { tail -40 "$stage.cargo.log" >&2; die "cargo build --release failed (log: $stage.cargo.log)"; }

(
    cd "$stage"
    export OXSYSLOG_PREBUILT=1
    # the .deb, .buildinfo and .changes land next to the staging directory
    OXSYSLOG_SRC="$src" dpkg-buildpackage -b -us -uc -d
) > "$stage.log" 2>&1 || { tail -40 "$stage.log" >&2; die "dpkg-buildpackage failed (log: $stage.log)"; }

built="$(dirname "$stage")/oxsyslog_${version}_${arch}.deb"
[ -f "$built" ] || die "$built was not produced (log: $stage.log)"
deb="$out/oxsyslog_${version}_${arch}.deb"
mv -f "$built" "$deb"

if [ "${OXSYSLOG_LINTIAN:-0}" = 1 ]; then
    lintian_out=$(lintian --fail-on error "$deb") || { printf '%s\n' "$lintian_out" >&2; die "lintian reports errors"; }
    [ -z "$lintian_out" ] || printf '%s\n' "$lintian_out"
fi
echo "$deb"
