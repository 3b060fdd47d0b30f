#!/usr/bin/env bash
# The Debian package tier of the tests (issue #6): `bash scripts/test-deb.sh` (run by
# scripts/test.sh after cargo test). Needs root (chroot, mount) and the Debian mirror the
# first time (the bookworm root is then cached).
#
# 1. builds the package (scripts/build-deb.sh), runs lintian (no errors) and
#    `systemd-analyze verify` on the installed unit;
# 2. unpacks a bookworm root made once by debootstrap and cached as a tarball in
#    $HOME/.cache/oxsyslog-deb/ (with rsyslog's .debs in its apt cache, so later runs need
#    no network), mounts /proc there with a FIFO over /proc/kmsg (the host's kernel log is
#    never read), and in that root:
#    - installs rsyslog, adds a local rule to /etc/rsyslog.conf, starts rsyslogd (no systemd
#      in a chroot: directly), sends `logger` messages and keeps the lines it wrote;
#    - installs oxsyslog over it: rsyslog removed (config files kept), /etc/rsyslog.conf taken
#      over with the local rule and no prompt, `oxsyslogd -N1` and `rsyslogd -N1` pass,
#      enablement links and log file modes as Debian's;
#    - starts oxsyslogd, sends the same messages: the same bytes in the same files (reception
#      timestamp and hostname masked);
#    - `logrotate -f`: the files rotate, the postrotate HUP reaches the daemon, the next
#      message is in the new file;
#    - installs version N+1 over N while messages flow: none lost;
#    - `apt purge rsyslog`: /etc/rsyslog.conf and our links stay, the daemon still logs;
#    - purges oxsyslog: none of its files remain;
#    - goes back: oxsyslog installed afresh, then rsyslog over it: the config (with a local
#      change) handed back, rsyslog's links and logrotate entry active, rsyslogd logging, and a
#      purge of the removed oxsyslog leaves rsyslog's config alone.
# 3. runs scripts/test-deb-systemd.sh: the same package under systemd as PID 1 of a bookworm
#    container (Type=notify, the unit's aliases, syslog.socket across restarts and the upgrade,
#    rotation through systemctl, the hardening at work).
# dpkg-query formats and awk programs are single-quoted on purpose; `A && B || fail` is meant.
# shellcheck disable=SC2016,SC2015

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
src=$(pwd)

if [ -z "${HOME:-}" ]; then
    HOME=$(getent passwd "$(id -u)" | cut -d: -f6)
    export HOME="${HOME:-/root}"
fi

t0=$(date +%s)
say() { printf 'test-deb: [%3ds] %s\n' "$(($(date +%s) - t0))" "$*"; }
fail() { printf 'test-deb: FAIL: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
    say "SKIPPED: needs root (debootstrap, chroot, mount)"
    exit 0
fi

need=()
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v lintian >/dev/null 2>&1 || need+=(lintian)
command -v dh >/dev/null 2>&1 || need+=(debhelper)
if [ "${#need[@]}" -gt 0 ]; then
    say "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "${need[@]}" \
        </dev/null >/dev/null || fail "apt-get install ${need[*]}"
fi

# ---------------------------------------------------------------------------------------------
# The package (version N and N+1), lintian, systemd-analyze
# ---------------------------------------------------------------------------------------------

say "building the package"
deb=$(OXSYSLOG_LINTIAN=1 bash scripts/build-deb.sh | tail -1) || fail "scripts/build-deb.sh (or lintian)"
[ -f "$deb" ] || fail "no package at '$deb'"
say "built $deb; lintian: no errors"
version=$(dpkg-deb -f "$deb" Version)
next_version="$version+test1"
deb_next=$(OXSYSLOG_DEB_VERSION="$next_version" OXSYSLOG_DEB_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/oxsyslog-target}/deb-next" \
    bash scripts/build-deb.sh | tail -1) || fail "building version $next_version"

work=$(mktemp -d /tmp/oxsyslog-deb-test.XXXXXX)
root="$work/root"
mounts=()
cleanup() {
    local p i
    # only our background jobs that are still running (never a pid that may have been reused)
    for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
    for p in $(jobs -p); do wait "$p" 2>/dev/null || true; done
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount "${mounts[$i]}" 2>/dev/null || umount -l "${mounts[$i]}" 2>/dev/null || true; done
    if [ -z "${OXSYSLOG_KEEP_ROOT:-}" ]; then
        # never follow anything out of the root: unmounted above; -xdev as a second guard
        if ! grep -q " $root/" /proc/mounts; then rm -rf "$work"; fi
    else
        say "root kept at $root"
    fi
}
trap cleanup EXIT

say "systemd-analyze verify on the installed unit"
mkdir -p "$work/pkg"
dpkg-deb -x "$deb" "$work/pkg"
if command -v systemd-analyze >/dev/null 2>&1 && command -v unshare >/dev/null 2>&1; then
    # The unit names /usr/sbin/oxsyslogd, which verify checks: in a private mount namespace the
    # package's /usr/sbin stands in for the host's (nothing on the host changes).
    unshare -m sh -c "mount --bind '$work/pkg/usr/sbin' /usr/sbin && \
        MANPATH='$work/pkg/usr/share/man:/usr/share/man' systemd-analyze verify \
        '$work/pkg/lib/systemd/system/oxsyslog.service'" \
        || fail "systemd-analyze verify oxsyslog.service"
else
    say "systemd-analyze or unshare missing: unit not verified"
fi

# ---------------------------------------------------------------------------------------------
# The cached bookworm root
# ---------------------------------------------------------------------------------------------

cache="$HOME/.cache/oxsyslog-deb"
mirror="${OXSYSLOG_DEB_MIRROR:-http://deb.debian.org/debian}"
tarball="$cache/bookworm-minbase-rsyslog-v1.tar.gz"
mkdir -p "$cache"
if [ ! -f "$tarball" ]; then
    say "creating the bookworm root (once; cached as $tarball)"
    b="$work/bootstrap"
    debootstrap --variant=minbase --include=logrotate bookworm "$b" "$mirror" \
        > "$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap"; }
    cp /etc/resolv.conf "$b/etc/resolv.conf" 2>/dev/null || true
    printf 'deb %s bookworm main\n' "$mirror" > "$b/etc/apt/sources.list"
    # rsyslog's .debs in the root's apt cache: the test installs it without network
    chroot "$b" sh -c 'apt-get -q update && apt-get -q install -y --download-only --no-install-recommends rsyslog' \
        > "$work/download.log" 2>&1 || { tail -20 "$work/download.log" >&2; fail "downloading rsyslog into the root"; }
    rm -f "$b/etc/resolv.conf"
    tar -C "$b" -czf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$b"
fi
# piuparts (opt-in, OXSYSLOG_PIUPARTS=1: it runs `apt-get update` against the mirror in its
# own copy of the cached root every time; 10 s to 2 min here): install and purge, with
# its checks for files left behind or modified.
if [ "${OXSYSLOG_PIUPARTS:-0}" = 1 ]; then
    if ! command -v piuparts >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends piuparts \
            </dev/null >/dev/null || fail "apt-get install piuparts"
    fi
    say "piuparts (install, purge) on the cached root"
    rm -f "$cache/piuparts-last.log"
    piuparts -b "$tarball" -d bookworm -m "$mirror" --no-upgrade-test -l "$cache/piuparts-last.log" "$deb" \
        > /dev/null 2>&1 || { grep -E 'ERROR|FAIL' "$cache/piuparts-last.log" | head -20 >&2; fail "piuparts (log: $cache/piuparts-last.log)"; }
    grep -q 'PASS: All tests' "$cache/piuparts-last.log" || fail "piuparts did not pass"
    say "piuparts: PASS"
fi

say "unpacking the cached root"
mkdir -p "$root"
tar -C "$root" -xzf "$tarball"

# No service may start from a maintainer script inside the root.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

mount -t proc proc "$root/proc" || fail "mounting /proc in the root was refused"
mounts+=("$root/proc")
# imklog of both daemons reads /proc/kmsg: give them a FIFO instead of the host's kernel log
mkfifo "$work/kmsg"
exec 9<>"$work/kmsg"
mount --bind "$work/kmsg" "$root/proc/kmsg" || fail "cannot cover /proc/kmsg in the root"
mounts+=("$root/proc/kmsg")

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
apt_root() { in_root apt-get -q -o Dpkg::Use-Pty=0 "$@" </dev/null; }

start_daemon() { # name [args...]: started in the root, in the background; pid in $daemon_pid
    local bin=$1
    shift
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$bin" "$@" \
        > "$work/$(basename "$bin").out" 2>&1 &
    daemon_pid=$!
}
stop_daemon() {
    kill -TERM "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
}
wait_for() { # file pattern [seconds]
    local i
    for ((i = 0; i < ${3:-10} * 20; i++)); do
        if [ -f "$root$1" ] && grep -qF -- "$2" "$root$1"; then return 0; fi
        sleep 0.05
    done
    return 1
}
wait_socket() {
    local i
    for ((i = 0; i < 200; i++)); do
        [ -S "$root/dev/log" ] && in_root logger -t oxprobe -p local7.debug probe 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# The messages both daemons get: user.notice (syslog, user.log), auth.info (auth.log only),
# kern facility from a user process, and local5 for the rule added to /etc/rsyslog.conf.
send_messages() { # run-label
    in_root logger -t oxtest -p user.notice "plain message from logger"
    in_root logger -t oxtest -p user.warning "tab	and   spaces [brackets] {json:\"x\"} ünïcödé"
    in_root logger -t oxtest -p auth.info "session opened for user test"
    in_root logger -t oxtest -p mail.err "mail queue error"
    in_root logger -t oxtest -p local5.info "local rule message"
    in_root logger -t 'oxtest[4242]' -p daemon.notice "with a pid in the tag"
    in_root logger -t oxtest -p local5.info "end of run $1"
}
# the lines of our messages in each file, reception timestamp and hostname masked
collect() { # out-file
    local f
    for f in syslog user.log auth.log mail.log local5.log; do
        if [ -f "$root/var/log/$f" ]; then
            grep -F 'oxtest' "$root/var/log/$f" | grep -v 'end of run' \
                | sed -E "s/^[^ ]+ [^ ]+ /$f: TS HOST /" || true
        fi
    done > "$1"
}

# ---------------------------------------------------------------------------------------------
# rsyslog first
# ---------------------------------------------------------------------------------------------

say "installing rsyslog in the root (from the cached .debs)"
apt_root install -y --no-download --no-install-recommends rsyslog > "$work/apt-rsyslog.log" 2>&1 \
    || { tail -20 "$work/apt-rsyslog.log" >&2; fail "apt-get install rsyslog in the root"; }
[ -x "$root/usr/sbin/rsyslogd" ] || fail "rsyslogd not installed in the root"
# debian/README.Debian (AppArmor) relies on this: Debian's rsyslog ships no AppArmor profile
if in_root dpkg-query -L rsyslog | grep '^/etc/apparmor\.d/.' >/dev/null; then
    fail "rsyslog now ships an AppArmor profile: revisit the AppArmor section of debian/README.Debian"
fi

# A local change to the conffile, and a snippet in rsyslog.d: both must survive and be used.
printf '\n# local change (test-deb)\nlocal5.*\t\t\t/var/log/local5.log\n' >> "$root/etc/rsyslog.conf"
printf '# test-deb snippet\n$RepeatedMsgReduction off\n' > "$root/etc/rsyslog.d/50-test.conf"
conf_md5=$(md5sum < "$root/etc/rsyslog.conf")
rsyslog_conffile_md5=$(in_root dpkg-query -W -f='${Conffiles}\n' rsyslog | awk '$1 == "/etc/rsyslog.conf" { print $2 }')

say "rsyslogd in the root: logger messages"
start_daemon /usr/sbin/rsyslogd -n
wait_socket || fail "rsyslogd did not open /dev/log in the root"
send_messages rsyslog
wait_for /var/log/local5.log "end of run rsyslog" || fail "rsyslogd did not write the messages"
stop_daemon
collect "$work/rsyslog.lines"
[ "$(wc -l < "$work/rsyslog.lines")" -ge 8 ] || { cat "$work/rsyslog.lines" >&2; fail "rsyslogd wrote too few lines"; }
# start afresh: the same messages go to empty files under oxsyslogd
for f in syslog user.log auth.log mail.log local5.log; do rm -f "$root/var/log/$f"; done

# ---------------------------------------------------------------------------------------------
# oxsyslog over it
# ---------------------------------------------------------------------------------------------

# leftover rsyslog disk-queue files: the postinst reports them with a count
printf 'x' > "$root/var/spool/rsyslog/testq.qi"
printf 'x' > "$root/var/spool/rsyslog/testq.00000001"

say "installing oxsyslog over rsyslog"
cp "$deb" "$root/tmp/oxsyslog.deb"
apt_root install -y "/tmp/oxsyslog.deb" > "$work/apt-ox.log" 2>&1 \
    || { tail -30 "$work/apt-ox.log" >&2; fail "apt-get install oxsyslog"; }
grep -q 'Removing rsyslog' "$work/apt-ox.log" || fail "apt did not remove rsyslog"
grep -q '2 rsyslog disk-queue file(s) left in /var/spool/rsyslog' "$work/apt-ox.log" \
    || fail "the postinst did not report the leftover rsyslog queue files"
rm -f "$root/var/spool/rsyslog/testq.qi" "$root/var/spool/rsyslog/testq.00000001"
if grep -qi 'configuration file.*modified\|\*\*\* rsyslog.conf' "$work/apt-ox.log"; then fail "dpkg prompted about /etc/rsyslog.conf"; fi
[ "$(in_root dpkg-query -W -f='${db:Status-Abbrev}' rsyslog)" = "rc " ] || fail "rsyslog is not in state 'removed, config files kept'"
[ "$(in_root dpkg-query -W -f='${db:Status-Abbrev}' oxsyslog)" = "ii " ] || fail "oxsyslog is not installed"
[ "$(md5sum < "$root/etc/rsyslog.conf")" = "$conf_md5" ] || fail "/etc/rsyslog.conf changed on install"
[ -f "$root/etc/rsyslog.d/50-test.conf" ] || fail "/etc/rsyslog.d/50-test.conf is gone"
owner=$(in_root dpkg-query -S /etc/rsyslog.conf | cut -d: -f1)
[ "$owner" = oxsyslog ] || fail "/etc/rsyslog.conf belongs to '$owner', not oxsyslog"
ox_conffile_md5=$(in_root dpkg-query -W -f='${Conffiles}\n' oxsyslog | awk '$1 == "/etc/rsyslog.conf" { print $2 }')
[ "$ox_conffile_md5" = "$rsyslog_conffile_md5" ] || fail "conffile hash not taken over ($ox_conffile_md5 vs $rsyslog_conffile_md5)"
in_root dpkg-query -W -f='${Conffiles}\n' rsyslog | grep -q '^ /etc/rsyslog.conf .* obsolete$' \
    || fail "rsyslog still claims /etc/rsyslog.conf"
[ -L "$root/usr/sbin/rsyslogd" ] && [ "$(readlink "$root/usr/sbin/rsyslogd")" = oxsyslogd ] \
    || fail "/usr/sbin/rsyslogd is not the compatibility link"
[ "$(readlink "$root/etc/systemd/system/syslog.service")" = /lib/systemd/system/oxsyslog.service ] \
    || fail "syslog.service alias: $(ls -l "$root/etc/systemd/system/syslog.service" 2>&1)"
[ "$(readlink "$root/etc/systemd/system/rsyslog.service")" = /lib/systemd/system/oxsyslog.service ] \
    || fail "rsyslog.service alias: $(ls -l "$root/etc/systemd/system/rsyslog.service" 2>&1)"
[ -L "$root/etc/systemd/system/multi-user.target.wants/oxsyslog.service" ] || fail "oxsyslog.service not enabled"
[ ! -e "$root/etc/systemd/system/multi-user.target.wants/rsyslog.service" ] || fail "rsyslog's wants link left behind"
[ -f "$root/etc/logrotate.d/oxsyslog" ] && [ -f "$root/etc/logrotate.d/rsyslog.disabled" ] \
    && [ ! -e "$root/etc/logrotate.d/rsyslog" ] || fail "logrotate entries: $(ls "$root/etc/logrotate.d")"
[ "$(stat -c '%a' "$root/var/spool/rsyslog")" = 700 ] || fail "/var/spool/rsyslog is not 0700"
for f in syslog auth.log kern.log mail.log user.log cron.log; do
    [ "$(stat -c '%U:%G %a' "$root/var/log/$f")" = "root:adm 640" ] \
        || fail "/var/log/$f: $(stat -c '%U:%G %a' "$root/var/log/$f")"
done
if grep -q '^name = "oxaudit"' "$src/Cargo.toml"; then
    in_root oxaudit --help > "$work/oxaudit.out" 2>&1 || fail "/usr/bin/oxaudit missing or broken"
fi
in_root oxsyslogd -N1 > "$work/n1.out" 2>&1 || { cat "$work/n1.out" >&2; fail "oxsyslogd -N1 on rsyslog's config"; }
in_root rsyslogd -N1 > "$work/n1c.out" 2>&1 || { cat "$work/n1c.out" >&2; fail "rsyslogd -N1 (compatibility name)"; }
say "installed: rsyslog removed, config taken over and valid, links and modes as expected"

say "oxsyslogd in the root: the same logger messages"
rm -f "$root/var/log/syslog" "$root/var/log/user.log" "$root/var/log/auth.log" "$root/var/log/mail.log"
start_daemon /usr/sbin/oxsyslogd -n
wait_socket || { cat "$work/oxsyslogd.out" >&2; fail "oxsyslogd did not open /dev/log in the root"; }
send_messages oxsyslogd
wait_for /var/log/local5.log "end of run oxsyslogd" || { cat "$work/oxsyslogd.out" >&2; fail "oxsyslogd did not write the messages"; }
collect "$work/oxsyslogd.lines"
if ! diff -u "$work/rsyslog.lines" "$work/oxsyslogd.lines" >&2; then
    fail "oxsyslogd's lines differ from rsyslogd's (above)"
fi
say "oxsyslogd wrote the same $(wc -l < "$work/oxsyslogd.lines") lines as rsyslogd (timestamp, hostname masked)"
[ "$(stat -c '%U:%G %a' "$root/var/log/local5.log")" = "root:adm 640" ] \
    || fail "/var/log/local5.log created as $(stat -c '%U:%G %a' "$root/var/log/local5.log")"

say "logrotate -f"
[ -s "$root/run/rsyslogd.pid" ] || fail "no /run/rsyslogd.pid (the rotate helper's way to the daemon)"
in_root logrotate -f /etc/logrotate.conf > "$work/logrotate.out" 2>&1 \
    || { cat "$work/logrotate.out" >&2; fail "logrotate -f /etc/logrotate.conf"; }
[ -f "$root/var/log/syslog.1" ] || fail "syslog was not rotated"
grep -qF 'plain message from logger' "$root/var/log/syslog.1" || fail "syslog.1 lacks the earlier lines"
in_root logger -t oxtest -p user.notice "after rotation"
wait_for /var/log/syslog "after rotation" || fail "after HUP the daemon does not write to the new /var/log/syslog"
if grep -qF 'after rotation' "$root/var/log/syslog.1"; then fail "written to the rotated file"; fi
say "rotated; after the HUP the daemon writes to the new file"

say "upgrade to $next_version while messages flow"
cp "$deb_next" "$root/tmp/oxsyslog-next.deb"
(
    for i in $(seq 1 300); do in_root logger -t oxseq -p local5.info "seq $i" || echo "lost $i"; sleep 0.01; done
) > "$work/sender.out" 2>&1 &
sender=$!
apt_root install -y "/tmp/oxsyslog-next.deb" > "$work/apt-next.log" 2>&1 \
    || { tail -30 "$work/apt-next.log" >&2; fail "upgrade to $next_version"; }
wait "$sender"
in_root logger -t oxseq -p local5.info "seq end"
wait_for /var/log/local5.log "seq end" || fail "no end marker after the upgrade"
got=$(grep -c 'oxseq: seq [0-9]' "$root/var/log/local5.log" || true)
[ "$got" = 300 ] || fail "upgrade: $got of 300 messages arrived ($(cat "$work/sender.out"))"
[ "$(in_root dpkg-query -W -f='${Version}' oxsyslog)" = "$next_version" ] || fail "not upgraded"
[ "$(md5sum < "$root/etc/rsyslog.conf")" = "$conf_md5" ] || fail "/etc/rsyslog.conf changed on upgrade"
[ "$(readlink "$root/etc/systemd/system/syslog.service")" = /lib/systemd/system/oxsyslog.service ] \
    || fail "syslog.service alias lost on upgrade"
say "upgraded; 300 of 300 messages sent during the upgrade arrived"

say "apt purge rsyslog"
apt_root purge -y rsyslog > "$work/apt-purge-rsyslog.log" 2>&1 \
    || { tail -20 "$work/apt-purge-rsyslog.log" >&2; fail "apt-get purge rsyslog"; }
[ "$(in_root dpkg-query -W -f='${db:Status-Abbrev}' rsyslog 2>/dev/null || true)" != "rc " ] || fail "rsyslog not purged"
[ "$(md5sum < "$root/etc/rsyslog.conf" 2>/dev/null)" = "$conf_md5" ] || fail "/etc/rsyslog.conf gone or changed by the purge of rsyslog"
[ "$(readlink "$root/etc/systemd/system/syslog.service")" = /lib/systemd/system/oxsyslog.service ] \
    || fail "the purge of rsyslog removed our syslog.service alias"
[ "$(readlink "$root/etc/systemd/system/rsyslog.service")" = /lib/systemd/system/oxsyslog.service ] \
    || fail "the purge of rsyslog removed our rsyslog.service alias"
in_root oxsyslogd -N1 > "$work/n1b.out" 2>&1 || { cat "$work/n1b.out" >&2; fail "oxsyslogd -N1 after purging rsyslog"; }
in_root logger -t oxtest -p local5.info "after purging rsyslog"
wait_for /var/log/local5.log "after purging rsyslog" || fail "the daemon stopped logging after the purge of rsyslog"
stop_daemon
# the daemon, restarted on the config that is left, works too
start_daemon /usr/sbin/oxsyslogd -n
wait_socket || { cat "$work/oxsyslogd.out" >&2; fail "oxsyslogd does not start after the purge of rsyslog"; }
in_root logger -t oxtest -p local5.info "restarted after purging rsyslog"
wait_for /var/log/local5.log "restarted after purging rsyslog" || fail "no logging after restart"
stop_daemon
say "rsyslog purged: /etc/rsyslog.conf, links and the daemon intact"

say "apt purge oxsyslog"
in_root dpkg-query -L oxsyslog > "$work/ox.files"
apt_root purge -y oxsyslog > "$work/apt-purge-ox.log" 2>&1 \
    || { tail -20 "$work/apt-purge-ox.log" >&2; fail "apt-get purge oxsyslog"; }
left=()
while read -r p; do
    [ -n "$p" ] || continue
    # files and links (a link to a directory, like /lib on a merged-/usr system, is a directory)
    if { [ -L "$root$p" ] || [ -f "$root$p" ]; } && [ ! -d "$root$p" ]; then left+=("$p"); fi
    # our own directories must be gone; shared ones only if we left them empty
    case "$p" in
        /usr/lib/oxsyslog | /usr/share/doc/oxsyslog) [ ! -d "$root$p" ] || left+=("$p/") ;;
        /etc/rsyslog.d | /var/spool/rsyslog)
            if [ -d "$root$p" ] && [ -z "$(ls -A "$root$p")" ]; then left+=("$p/ (empty)"); fi ;;
    esac
done < "$work/ox.files"
for p in /etc/logrotate.d/oxsyslog.disabled /var/lib/oxsyslog /etc/systemd/system/syslog.service \
    /etc/systemd/system/rsyslog.service /etc/systemd/system/multi-user.target.wants/oxsyslog.service \
    /var/lib/systemd/deb-systemd-helper-enabled/oxsyslog.service.dsh-also; do
    if [ -e "$root$p" ] || [ -L "$root$p" ]; then left+=("$p"); fi
done
[ "${#left[@]}" -eq 0 ] || fail "left after purging oxsyslog: ${left[*]}"
say "oxsyslog purged: none of its files remain"

say "going back: oxsyslog installed afresh, then apt install rsyslog"
apt_root install -y "/tmp/oxsyslog.deb" > "$work/apt-ox2.log" 2>&1 \
    || { tail -30 "$work/apt-ox2.log" >&2; fail "fresh install of oxsyslog"; }
cmp -s "$root/etc/rsyslog.conf" "$src/debian/rsyslog.conf" || fail "a fresh install did not put Debian's default /etc/rsyslog.conf in place"
printf '\n# local change (test-deb, second)\nlocal5.*\t\t\t/var/log/local5.log\n' >> "$root/etc/rsyslog.conf"
conf_md5=$(md5sum < "$root/etc/rsyslog.conf")
apt_root install -y --no-download --no-install-recommends rsyslog > "$work/apt-back.log" 2>&1 \
    || { tail -30 "$work/apt-back.log" >&2; fail "apt-get install rsyslog over oxsyslog"; }
[ "$(in_root dpkg-query -W -f='${db:Status-Abbrev}' oxsyslog)" = "rc " ] || fail "oxsyslog not removed by rsyslog"
[ "$(md5sum < "$root/etc/rsyslog.conf")" = "$conf_md5" ] || fail "going back changed /etc/rsyslog.conf"
[ "$(in_root dpkg-query -S /etc/rsyslog.conf | cut -d: -f1)" = rsyslog ] || fail "rsyslog did not take /etc/rsyslog.conf back"
[ ! -L "$root/usr/sbin/rsyslogd" ] && [ -x "$root/usr/sbin/rsyslogd" ] || fail "/usr/sbin/rsyslogd is not rsyslog's"
[ ! -e "$root/etc/systemd/system/rsyslog.service" ] && [ ! -L "$root/etc/systemd/system/rsyslog.service" ] \
    || fail "our rsyslog.service alias would shadow rsyslog's unit"
[ "$(readlink "$root/etc/systemd/system/syslog.service")" = /lib/systemd/system/rsyslog.service ] \
    || fail "rsyslog's syslog.service alias: $(ls -l "$root/etc/systemd/system/syslog.service" 2>&1)"
[ -f "$root/etc/logrotate.d/rsyslog" ] && [ -f "$root/etc/logrotate.d/oxsyslog.disabled" ] \
    && [ ! -e "$root/etc/logrotate.d/oxsyslog" ] || fail "logrotate entries: $(ls "$root/etc/logrotate.d")"
in_root rsyslogd -N1 > "$work/n1r.out" 2>&1 || { cat "$work/n1r.out" >&2; fail "rsyslogd -N1 after going back"; }
start_daemon /usr/sbin/rsyslogd -n -iNONE
wait_socket || fail "rsyslogd does not start after going back"
in_root logger -t oxtest -p local5.info "rsyslog again"
wait_for /var/log/local5.log "rsyslog again" || fail "rsyslogd does not log after going back"
stop_daemon
apt_root purge -y oxsyslog > "$work/apt-purge-ox2.log" 2>&1 || fail "apt-get purge oxsyslog (removed)"
[ "$(md5sum < "$root/etc/rsyslog.conf" 2>/dev/null)" = "$conf_md5" ] || fail "purging the removed oxsyslog deleted rsyslog's /etc/rsyslog.conf"
[ ! -e "$root/etc/logrotate.d/oxsyslog.disabled" ] || fail "oxsyslog.disabled left after purge"
say "back on rsyslog: config kept and handed back, its links and logrotate entry active, logging"

# ---------------------------------------------------------------------------------------------
# Under systemd (scripts/test-deb-systemd.sh: systemd as PID 1 of a bookworm container)
# ---------------------------------------------------------------------------------------------

bash scripts/test-deb-systemd.sh "$deb" "$deb_next" || fail "the systemd tier (scripts/test-deb-systemd.sh)"

say "PASS ($(($(date +%s) - t0)) s)"
