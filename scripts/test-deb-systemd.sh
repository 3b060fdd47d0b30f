#!/usr/bin/env bash
# The systemd tier of the Debian package tests (issue #6): `bash scripts/test-deb-systemd.sh
# [DEB DEB_NEXT]`, run by scripts/test-deb.sh with the two packages it built (version N and
# N+1; built here when not given). Needs root, util-linux (unshare, nsenter, pivot_root) and a
# writable cgroup hierarchy for systemd; skips with the reason when one is missing.
#
# systemd (bookworm's) boots as PID 1 of a bookworm root in new PID, mount, UTS and IPC
# namespaces: a container made by hand, like systemd-nspawn would (container=oxtest, /proc/sys
# and /sys read-only, a private /dev, /run and /tmp, the cgroup hierarchies read-only except
# for a cgroup of its own; /proc/kmsg is a FIFO, so the host's kernel log is never read; the
# network namespace is the host's, and no unit that would touch it is enabled). Driven with
# systemctl through nsenter, it shows:
#   - rsyslog installed and running under systemd, then oxsyslog installed over it: the
#     maintainer scripts stop rsyslog and start oxsyslog.service (Type=notify, active), with
#     syslog.socket handed over and rsyslog.service, syslog.service resolving to our unit;
#   - `systemctl restart rsyslog` and `systemctl restart syslog` restart our daemon, and the new
#     process's READY=1 reaches systemd (its debug log shows the notification);
#   - the hardening of the unit is in effect (seccomp filter, no_new_privs, capability bounding
#     set) and does not break: logging through journald's /dev/log and syslog.socket, writing
#     /var/log, reading /proc/kmsg (the FIFO), imfile's state file in /var/spool/rsyslog, and
#     the privilege drop ($PrivDropToUser/Group: files written as that user, kmsg still read);
#   - messages sent into /run/systemd/journal/syslog while the daemon restarts three times
#     (through the three unit names) are all logged, counted;
#   - `logrotate -f` (our helper, systemctl kill -s HUP) and the command of Debian's helper
#     (`systemctl kill -s HUP rsyslog.service`) make the same process reopen its files;
#   - the upgrade N → N+1 under systemd restarts the daemon and loses none of the messages sent
#     into the socket meanwhile, counted;
#   - `apt remove oxsyslog` stops the daemon and the socket; `apt install rsyslog` then runs
#     rsyslog under systemd again (going back).
# Test-only changes to the unit: a drop-in binds the FIFO over the service's own /proc/kmsg
# (the sandbox gives the daemon a procfs of its own), and `systemctl reset-failed` before each
# series of restarts clears systemd's start limit (5 starts in 10 s).
# The container is powered off (SIGKILL if it does not stop) and its cgroups removed on exit,
# failure included; all its mounts live in its own mount namespace and vanish with it.
# OXSYSLOG_HOLD_ON_FAIL=SECONDS keeps a failed container up for a look; OXSYSLOG_KEEP_ROOT=1
# keeps its files.
# Single-quoted sh programs run inside the container; `A && B || fail` is meant.
# shellcheck disable=SC2016,SC2015

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ -z "${HOME:-}" ]; then
    HOME=$(getent passwd "$(id -u)" | cut -d: -f6)
    export HOME="${HOME:-/root}"
fi

t0=$(date +%s)
say() { printf 'test-deb-systemd: [%3ds] %s\n' "$(($(date +%s) - t0))" "$*"; }
fail() {
    printf 'test-deb-systemd: FAIL: %s\n' "$*" >&2
    # OXSYSLOG_HOLD_ON_FAIL=SECONDS: the container stays up that long for a look (nsenter -t PID -a)
    if [ -n "${OXSYSLOG_HOLD_ON_FAIL:-}" ] && [ -n "${pid1:-}" ]; then
        say "container PID 1 is $pid1 on the host; holding ${OXSYSLOG_HOLD_ON_FAIL}s"
        sleep "$OXSYSLOG_HOLD_ON_FAIL"
    fi
    exit 1
}
skip() { say "SKIPPED: $*"; exit 0; }

[ "$(id -u)" -eq 0 ] || skip "needs root (namespaces, mount, cgroups)"
for t in unshare nsenter pivot_root; do
    command -v "$t" >/dev/null 2>&1 || skip "$t (util-linux) is missing"
done

# The cgroup layout systemd will find: hybrid (tmpfs with a name=systemd v1 hierarchy and,
# optionally, cgroup2 at unified/) or unified (cgroup2 at /sys/fs/cgroup).
cgfs=$(stat -f -c %T /sys/fs/cgroup 2>/dev/null || true)
if [ "$cgfs" = cgroup2fs ]; then
    layout=unified
    hier=("")
elif [ "$cgfs" = tmpfs ] && grep -q ' /sys/fs/cgroup/systemd cgroup .*name=systemd' /proc/mounts; then
    layout=hybrid
    hier=(systemd)
    if [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null || true)" = cgroup2fs ]; then hier+=(unified); fi
else
    skip "no cgroup hierarchy for systemd (/sys/fs/cgroup is '${cgfs:-missing}', no name=systemd hierarchy)"
fi

# ---------------------------------------------------------------------------------------------
# The packages
# ---------------------------------------------------------------------------------------------

if [ $# -ge 2 ]; then
    deb=$1
    deb_next=$2
else
    say "building the packages (version N and N+1)"
    deb=$(bash scripts/build-deb.sh | tail -1) || fail "scripts/build-deb.sh"
    deb_next=$(OXSYSLOG_DEB_VERSION="$(dpkg-deb -f "$deb" Version)+test1" \
        OXSYSLOG_DEB_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/oxsyslog-target}/deb-next" \
        bash scripts/build-deb.sh | tail -1) || fail "building version N+1"
fi
[ -f "$deb" ] && [ -f "$deb_next" ] || fail "packages missing: '$deb' '$deb_next'"
version=$(dpkg-deb -f "$deb" Version)
next_version=$(dpkg-deb -f "$deb_next" Version)

# ---------------------------------------------------------------------------------------------
# Clean-up: the container, its cgroups, the work directory
# ---------------------------------------------------------------------------------------------

work=$(mktemp -d /tmp/oxsyslog-deb-systemd.XXXXXX)
root="$work/root"
cg="oxsyslog-deb-test-$$"
cgdirs=()
mounts=()
unshare_pid=
pid1=
container_ns=
running() { # pid: exists and is not a zombie
    local st
    st=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null || true)
    [ -n "$st" ] && [ "$st" != Z ]
}
# Our nsenter processes: outside the container, their children inside. One that is stopped
# (systemd's shutdown stops every process of the container, and nsenter then stops itself) or
# still running would keep the container's PID 1 from finishing its exit: killed first.
kill_nsenters() {
    local p
    [ -n "$container_ns" ] || return 0
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" != "$unshare_pid" ] || continue
        [ "$(readlink "$p/ns/pid_for_children" 2>/dev/null)" = "$container_ns" ] || continue
        [ "$(readlink "$p/ns/pid" 2>/dev/null)" != "$container_ns" ] || continue
        kill -s KILL "${p#/proc/}" 2>/dev/null || true
    done
}
stop_container() {
    local i
    [ -n "$unshare_pid" ] || return 0
    kill_nsenters
    if [ -n "$pid1" ] && running "$pid1"; then
        kill -s SIGRTMIN+4 "$pid1" 2>/dev/null || true # systemd in a container: poweroff
        for ((i = 0; i < 150; i++)); do running "$unshare_pid" || break; sleep 0.1; done
        kill -s KILL "$pid1" 2>/dev/null || true # the whole PID namespace goes with it
    fi
    for ((i = 0; i < 100; i++)); do
        running "$unshare_pid" || break
        kill_nsenters
        sleep 0.1
    done
    if running "$unshare_pid"; then
        printf 'test-deb-systemd: warning: the container (unshare, pid %s) does not exit\n' "$unshare_pid" >&2
        return 1
    fi
    wait "$unshare_pid" 2>/dev/null || true
    unshare_pid=
}
cleanup() {
    local p d i
    # our other background jobs (senders: nsenter, whose child in the container it must reap,
    # else the container's PID 1 cannot finish exiting), then the container
    for p in $(jobs -p); do [ "$p" = "$unshare_pid" ] || kill -s KILL "$p" 2>/dev/null || true; done
    for p in $(jobs -p); do [ "$p" = "$unshare_pid" ] || wait "$p" 2>/dev/null || true; done
    stop_container || return 0 # the container's files and cgroups stay for a look
    # the cgroups the container's systemd made below ours, deepest first (emptied asynchronously)
    for d in "${cgdirs[@]}"; do
        for ((i = 0; i < 50; i++)); do
            [ -d "$d" ] || break
            find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
            [ -d "$d" ] && sleep 0.1
        done
        [ ! -d "$d" ] || printf 'test-deb-systemd: warning: cgroup %s not removed\n' "$d" >&2
    done
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount "${mounts[$i]}" 2>/dev/null || umount -l "${mounts[$i]}" 2>/dev/null || true; done
    if [ -n "${OXSYSLOG_KEEP_ROOT:-}" ]; then
        say "root kept at $root"
    elif ! grep -q " $work/" /proc/mounts; then
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
# The cached bookworm root with systemd
# ---------------------------------------------------------------------------------------------

cache="$HOME/.cache/oxsyslog-deb"
mirror="${OXSYSLOG_DEB_MIRROR:-http://deb.debian.org/debian}"
base="$cache/bookworm-minbase-rsyslog-v1.tar.gz"
tarball="$cache/bookworm-minbase-systemd-v1.tar.gz"
# Units that would act on the host (shared network namespace, kernel) or run jobs (timers,
# cron, gettys) during the test.
masked=(cron.service e2scrub_reap.service apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer
    e2scrub_all.timer fstrim.timer logrotate.timer getty@tty1.service console-getty.service
    systemd-journald-audit.socket systemd-sysctl.service systemd-binfmt.service
    systemd-modules-load.service systemd-pstore.service)
if [ ! -f "$tarball" ]; then
    [ -f "$base" ] || fail "$base is missing: run scripts/test-deb.sh, which creates it"
    say "creating the bookworm root with systemd (once; cached as $tarball)"
    b="$work/bootstrap"
    mkdir -p "$b"
    tar -C "$b" -xzf "$base"
    mount -t proc proc "$b/proc" && mounts+=("$b/proc") || fail "mounting /proc in $b"
    cp /etc/resolv.conf "$b/etc/resolv.conf" 2>/dev/null || true
    printf 'deb %s bookworm main\n' "$mirror" > "$b/etc/apt/sources.list"
    # systemd installed; rsyslog's .debs in the apt cache again, of the same index
    chroot "$b" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive sh -c \
        'apt-get -q update && apt-get -q install -y --no-install-recommends systemd &&
         apt-get -q install -y --download-only --no-install-recommends rsyslog' \
        < /dev/null > "$work/bootstrap.log" 2>&1 || { tail -20 "$work/bootstrap.log" >&2; fail "installing systemd into the root"; }
    chroot "$b" systemctl mask "${masked[@]}" > /dev/null 2>&1 || fail "systemctl mask in the root"
    rm -f "$b/etc/resolv.conf"
    umount "$b/proc" && mounts=()
    tar -C "$b" -czf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$b"
fi
say "unpacking the cached root"
mkdir -p "$root"
tar -C "$root" -xzf "$tarball"
mkdir -p "$root/var/tmp/oxtest" "$root/var/lib/oxtest"
cp "$deb" "$root/var/tmp/oxtest/oxsyslog.deb"
cp "$deb_next" "$root/var/tmp/oxtest/oxsyslog-next.deb"
# the user of the privilege-drop check, and a directory it may write
chroot "$root" useradd --system --no-create-home --user-group --shell /usr/sbin/nologin oxdrop \
    || fail "useradd oxdrop in the root"
mkdir -p "$root/var/log/oxdrop"
chroot "$root" chown oxdrop:oxdrop /var/log/oxdrop
# The unit's sandbox gives the daemon a /proc of its own (a new procfs instance, not the
# container's with the FIFO over kmsg): without this drop-in, oxsyslogd would read the host's
# kernel log. In place before the package is installed, so no start ever reads it.
mkdir -p "$root/etc/systemd/system/oxsyslog.service.d"
printf '%s\n' '# test-deb-systemd: the test'"'"'s FIFO as the service'"'"'s /proc/kmsg' '[Service]' \
    'BindReadOnlyPaths=/run/oxtest-kmsg:/proc/kmsg' > "$root/etc/systemd/system/oxsyslog.service.d/oxtest-kmsg.conf"

# ---------------------------------------------------------------------------------------------
# Booting systemd
# ---------------------------------------------------------------------------------------------

for h in "${hier[@]}"; do
    d="/sys/fs/cgroup${h:+/$h}/$cg"
    mkdir "$d" 2>"$work/mkdir.err" || skip "cannot create the cgroup $d: $(cat "$work/mkdir.err")"
    cgdirs+=("$d")
done
# imklog reads /proc/kmsg: a FIFO stands in for it; we keep it open for writing (and reading,
# so that opening never blocks and the daemon never sees end-of-file)
mkfifo "$work/kmsg"
exec 8<>"$work/kmsg"
: > "$work/console"

# Runs in the new namespaces: mounts the container's file systems, enters its cgroup, pivots
# into the root and executes systemd as PID 1.
cat > "$work/boot.sh" <<'EOF'
set -eu
root=$1 cg=$2 kmsg=$3 console=$4 layout=$5
shift 5
hostname oxtest
mount --make-rprivate /
mount --bind "$root" "$root"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount --bind "$kmsg" "$root/proc/kmsg"
for p in sys sysrq-trigger; do
    [ -e "$root/proc/$p" ] || continue
    mount --bind "$root/proc/$p" "$root/proc/$p"
    mount -o remount,bind,ro "$root/proc/$p"
done
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
if [ "$layout" = unified ]; then
    mount --bind /sys/fs/cgroup "$root/sys/fs/cgroup"
    mount -o remount,bind,ro "$root/sys/fs/cgroup"
    mount --bind "/sys/fs/cgroup/$cg" "$root/sys/fs/cgroup/$cg"
else
    mount -t tmpfs -o mode=755,nosuid,nodev,noexec tmpfs "$root/sys/fs/cgroup"
    for h in "$@"; do
        mkdir "$root/sys/fs/cgroup/$h"
        mount --bind "/sys/fs/cgroup/$h" "$root/sys/fs/cgroup/$h"
        mount -o remount,bind,ro "$root/sys/fs/cgroup/$h"
        mount --bind "/sys/fs/cgroup/$h/$cg" "$root/sys/fs/cgroup/$h/$cg"
    done
    mount -o remount,bind,ro "$root/sys/fs/cgroup"
fi
mount -t tmpfs -o mode=755,nosuid tmpfs "$root/dev"
for n in null zero full random urandom tty; do
    touch "$root/dev/$n"
    mount --bind "/dev/$n" "$root/dev/$n"
done
mkdir "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
touch "$root/dev/console"
mount --bind "$console" "$root/dev/console"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$root/run"
touch "$root/run/oxtest-kmsg"
mount --bind "$kmsg" "$root/run/oxtest-kmsg"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"
if [ "$layout" = unified ]; then
    echo 0 > "/sys/fs/cgroup/$cg/cgroup.procs"
else
    for h in "$@"; do echo 0 > "/sys/fs/cgroup/$h/$cg/cgroup.procs"; done
fi
cd "$root"
mkdir -p .oldroot
pivot_root . .oldroot
exec /usr/bin/env -i container=oxtest PATH=/usr/sbin:/usr/bin:/sbin:/bin /bin/sh -c \
    'umount -l /.oldroot && rmdir /.oldroot && exec /lib/systemd/systemd --system'
EOF

say "booting systemd in the root (PID, mount, UTS, IPC namespaces; $layout cgroups)"
unshare --pid --fork --kill-child --mount --uts --ipc bash "$work/boot.sh" "$root" "$cg" "$work/kmsg" "$work/console" \
    "$layout" "${hier[@]}" > "$work/boot.log" 2>&1 &
unshare_pid=$!
for ((i = 0; i < 100; i++)); do
    pid1=$(cat "/proc/$unshare_pid/task/$unshare_pid/children" 2>/dev/null || true)
    pid1=${pid1%% *}
    if [ -n "$pid1" ] && [ "$(readlink "/proc/$pid1/exe" 2>/dev/null || true)" = /usr/lib/systemd/systemd ]; then break; fi
    if [ -n "$pid1" ] && [ "$(readlink "/proc/$pid1/exe" 2>/dev/null || true)" = /lib/systemd/systemd ]; then break; fi
    kill -0 "$unshare_pid" 2>/dev/null || { cat "$work/boot.log" >&2; fail "the container exited while booting"; }
    sleep 0.1
done
[ "$i" -lt 100 ] || { cat "$work/boot.log" "$work/console" >&2; fail "systemd did not start as PID 1 of the container"; }
R="/proc/$pid1/root" # the container's file system, as its processes see it
container_ns=$(readlink "/proc/$pid1/ns/pid")

ns() { nsenter -t "$pid1" -m -u -i -p -r -w /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@" < /dev/null; }
apt_ns() { ns apt-get -q -o Dpkg::Use-Pty=0 "$@"; }
journal_tail() { ns journalctl --no-pager -n "${1:-40}" >&2 || true; }
main_pid() { ns systemctl show -P MainPID "$1"; }
wait_for() { # file pattern [seconds]: the file in the container contains the text
    local i
    for ((i = 0; i < ${3:-10} * 20; i++)); do
        if [ -f "$R$1" ] && grep -qF -- "$2" "$R$1"; then return 0; fi
        sleep 0.05
    done
    return 1
}
# A sender inside the container: logger into syslog.socket's socket until $R/run/oxtest-stop
# exists; the number sent is then in /run/oxtest-sent, a failed send is reported in the output.
start_sender() { # tag
    rm -f "$R/run/oxtest-stop" "$R/run/oxtest-sent"
    # nsenter itself in the background (not the function ns in a subshell): $! is nsenter
    nsenter -t "$pid1" -m -u -i -p -r -w /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c \
        'i=0; while [ ! -e /run/oxtest-stop ]; do i=$((i+1));
        logger -d -u /run/systemd/journal/syslog --socket-errors=on -t "$0" -p local5.info "seq $i" || echo "lost $i";
        sleep 0.01; done; echo "$i" > /run/oxtest-sent' "$1" < /dev/null > "$work/sender-$1.out" 2>&1 &
    sender=$!
}
stop_sender() { # tag → number sent in $sent
    touch "$R/run/oxtest-stop"
    wait "$sender" || fail "sender $1 failed: $(cat "$work/sender-$1.out")"
    sent=$(cat "$R/run/oxtest-sent")
    [ ! -s "$work/sender-$1.out" ] || fail "sender $1: $(head -5 "$work/sender-$1.out")"
}
count_received() { # tag → messages of the sender in local5.log (waits for the last one)
    wait_for /var/log/local5.log "$1: seq $sent" 15 || fail "$1: message $sent of $sent not logged"
    grep -c "$1: seq [0-9]" "$R/var/log/local5.log" || true
}

for ((i = 0; i < 300; i++)); do
    [ -S "$R/run/systemd/private" ] && break
    kill -0 "$unshare_pid" 2>/dev/null || { cat "$work/boot.log" "$work/console" >&2; fail "the container exited while booting"; }
    sleep 0.1
done
[ -S "$R/run/systemd/private" ] || { cat "$work/boot.log" "$work/console" >&2; fail "systemd did not open /run/systemd/private"; }
state=$(ns timeout 60 systemctl is-system-running --wait 2> "$work/is-running.err" || true)
[ -n "$state" ] || { cat "$work/is-running.err" >&2; fail "systemctl is-system-running failed"; }
case "$state" in
    running | degraded) ;;
    *) journal_tail; fail "systemd did not finish booting: state '$state'" ;;
esac
if [ "$state" = degraded ]; then ns systemctl --no-pager --failed >&2; fail "units failed while booting (above)"; fi
say "systemd $(ns systemctl --version | head -1 | cut -d' ' -f2) is PID 1 of the container: $state"

# ---------------------------------------------------------------------------------------------
# rsyslog, then oxsyslog over it, under systemd
# ---------------------------------------------------------------------------------------------

say "apt install rsyslog (cached .debs): started by systemd"
apt_ns install -y --no-download --no-install-recommends rsyslog > "$work/apt-rsyslog.log" 2>&1 \
    || { tail -20 "$work/apt-rsyslog.log" >&2; fail "apt-get install rsyslog"; }
[ "$(ns systemctl is-active rsyslog.service)" = active ] || { journal_tail; fail "rsyslog.service is not active"; }
rpid=$(main_pid rsyslog.service)
[ "$(cat "$R/proc/$rpid/comm")" = rsyslogd ] || fail "rsyslog.service's main process is not rsyslogd"

say "apt install oxsyslog $version over it"
apt_ns install -y /var/tmp/oxtest/oxsyslog.deb > "$work/apt-ox.log" 2>&1 \
    || { tail -30 "$work/apt-ox.log" >&2; fail "apt-get install oxsyslog"; }
[ "$(ns dpkg-query -W -f='${db:Status-Abbrev}' rsyslog)" = "rc " ] || fail "rsyslog not removed"
[ "$(cat "$R/proc/$rpid/comm" 2>/dev/null || true)" != rsyslogd ] || fail "rsyslogd still runs"
for u in oxsyslog.service syslog.socket; do
    [ "$(ns systemctl is-active "$u")" = active ] || { journal_tail; fail "$u is not active after the install"; }
done
for u in rsyslog.service syslog.service; do
    [ "$(ns systemctl show -P Id "$u")" = oxsyslog.service ] || fail "$u does not resolve to oxsyslog.service"
done
[ "$(ns systemctl show -P Type oxsyslog.service)" = notify ] || fail "oxsyslog.service is not Type=notify"
pid=$(main_pid oxsyslog.service)
[ "$(cat "$R/proc/$pid/comm")" = oxsyslogd ] || fail "oxsyslog.service's main process is not oxsyslogd"
kmsg_fd=
for f in "$R/proc/$pid/fd"/*; do [ "$(readlink "$f")" = /proc/kmsg ] && kmsg_fd=$f; done
[ -n "$kmsg_fd" ] && [ "$(stat -L -c %F "$kmsg_fd")" = fifo ] \
    || fail "oxsyslogd's /proc/kmsg is not the test's FIFO ('${kmsg_fd:-not open}')"
ns journalctl --no-pager -u oxsyslog.service | grep "Acquired UNIX socket '/run/systemd/journal/syslog'.*from systemd" >/dev/null \
    || { journal_tail; fail "oxsyslogd did not take syslog.socket's socket from systemd"; }
say "rsyslog stopped and removed; oxsyslog.service active (pid $pid) with syslog.socket; aliases resolve"

# ---------------------------------------------------------------------------------------------
# Restarts through the aliases; READY=1
# ---------------------------------------------------------------------------------------------

cat > "$R/etc/rsyslog.d/50-oxtest.conf" <<'EOF'
# test-deb-systemd: a file input with its state in the work directory, and local5 on its own
module(load="imfile")
input(type="imfile" file="/var/lib/oxtest/in.log" tag="oxin:" facility="local5" severity="info" persistStateInterval="1")
local5.*	/var/log/local5.log
EOF
ns systemctl log-level debug
# systemd refuses more than 5 starts in 10 s (StartLimitBurst=): each section below that
# restarts the daemon several times begins with reset-failed, which clears the count
ns systemctl reset-failed oxsyslog.service
for name in rsyslog syslog; do
    old=$(main_pid oxsyslog.service)
    s=$(date +%s%N)
    ns timeout 30 systemctl restart "$name" || { journal_tail; fail "systemctl restart $name"; }
    ms=$((($(date +%s%N) - s) / 1000000))
    pid=$(main_pid oxsyslog.service)
    [ "$pid" != "$old" ] && [ "$pid" != 0 ] || fail "systemctl restart $name did not restart oxsyslog.service ($old → $pid)"
    [ "$(ns systemctl is-active oxsyslog.service)" = active ] || { journal_tail; fail "not active after systemctl restart $name"; }
    # the new process's pid is new in the container: the line can only be of this restart
    ns journalctl --no-pager -u oxsyslog.service \
        | grep "Got notification message from PID $pid (READY=1" >/dev/null \
        || { journal_tail 60; fail "no READY=1 from the new process $pid after systemctl restart $name"; }
    say "systemctl restart $name: oxsyslog.service restarted ($old → $pid), READY=1 received, active after $ms ms"
done
ns systemctl log-level info

# ---------------------------------------------------------------------------------------------
# The hardened daemon at work
# ---------------------------------------------------------------------------------------------

say "the hardening in effect, and the daemon's work under it"
status=$(cat "$R/proc/$pid/status")
grep -q '^NoNewPrivs:[[:space:]]*1$' <<< "$status" || fail "NoNewPrivileges= not in effect"
grep -q '^Seccomp:[[:space:]]*2$' <<< "$status" || fail "SystemCallFilter= not in effect (no seccomp filter)"
grep -q '^Uid:[[:space:]]*0[[:space:]]' <<< "$status" || fail "the daemon does not run as root"
capbnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' <<< "$status")
# CAP_CHOWN 0, DAC_OVERRIDE 1, FOWNER 3, KILL 5, SETGID 6, SETUID 7, NET_BIND_SERVICE 10,
# NET_ADMIN 12, SYS_RESOURCE 24, SYSLOG 34: the unit's CapabilityBoundingSet=, within the
# bounding set systemd itself has (a container may lack some)
pid1_capbnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' "$R/proc/1/status")
unit_caps=$(((1 << 0) | (1 << 1) | (1 << 3) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 10) | (1 << 12) | (1 << 24) | (1 << 34)))
[ "$((16#$capbnd))" = "$((unit_caps & 16#$pid1_capbnd))" ] \
    || fail "capability bounding set $capbnd differs from the unit's (systemd's: $pid1_capbnd)"
# journald's /dev/log, forwarded into syslog.socket
ns logger -t oxjournal -p user.notice "through journald"
wait_for /var/log/syslog "oxjournal: through journald" || { journal_tail; fail "a message to /dev/log (journald) did not reach /var/log/syslog"; }
# /proc/kmsg (the FIFO)
printf '<4>oxkmsg: kernel line under systemd\n' >&8
wait_for /var/log/kern.log "oxkmsg: kernel line under systemd" || { journal_tail; fail "the kernel line (/proc/kmsg) did not reach /var/log/kern.log"; }
# imfile, its state file in /var/spool/rsyslog
printf 'line for imfile\n' >> "$R/var/lib/oxtest/in.log"
wait_for /var/log/local5.log "oxin: line for imfile" || { journal_tail; fail "imfile's line did not reach /var/log/local5.log"; }
for ((i = 0; i < 100; i++)); do
    st=
    for f in "$R"/var/spool/rsyslog/imfile-state:*; do [ -e "$f" ] && st=${f##*/}; done
    [ -z "$st" ] || break
    sleep 0.05
done
[ -n "$st" ] || { journal_tail; fail "no imfile state file in /var/spool/rsyslog"; }
[ "$(stat -c %U "$R/var/spool/rsyslog/$st")" = root ] || fail "state file not written by the daemon"
for f in syslog kern.log local5.log; do
    [ "$(stat -c '%U:%G %a' "$R/var/log/$f")" = "root:adm 640" ] || fail "/var/log/$f: $(stat -c '%U:%G %a' "$R/var/log/$f")"
done
say "no_new_privs, seccomp, bounding set in effect; journald → syslog.socket, /var/log, /proc/kmsg, imfile state in /var/spool/rsyslog work"

say "privilege drop under the unit's hardening"
# As Ubuntu runs rsyslog: the log files belong to the unprivileged user (oxsyslogd refuses to
# start when a static output would not be writable after the drop). imfile's state files in
# the root-only work directory are not for this run.
logs=(syslog auth.log cron.log kern.log mail.log user.log local5.log)
for f in "${logs[@]}"; do chroot "$root" chown oxdrop "/var/log/$f"; done
mv "$R/etc/rsyslog.d/50-oxtest.conf" "$work/50-oxtest.conf"
ns systemctl reset-failed oxsyslog.service
cat > "$R/etc/rsyslog.d/50-oxdrop.conf" <<'EOF'
# test-deb-systemd: privilege drop; local5 also to a file the daemon creates after the drop
# (owned by the user: as root:adm, the owner could not be set and the file not opened)
$PrivDropToUser oxdrop
$PrivDropToGroup oxdrop
$FileOwner oxdrop
$FileGroup oxdrop
local5.*	/var/log/local5.log
local5.*	/var/log/oxdrop/local5.log
EOF
ns timeout 30 systemctl restart rsyslog || { journal_tail; fail "restart with the privilege drop"; }
pid=$(main_pid oxsyslog.service)
ns logger -t oxdrop -p local5.info "written after the privilege drop"
wait_for /var/log/oxdrop/local5.log "oxdrop: written after the privilege drop" || { journal_tail; fail "no logging after the privilege drop"; }
wait_for /var/log/local5.log "oxdrop: written after the privilege drop" || { journal_tail; fail "no logging to /var/log/local5.log after the privilege drop"; }
printf '<4>oxkmsg: kernel line after the privilege drop\n' >&8
wait_for /var/log/kern.log "oxkmsg: kernel line after the privilege drop" || { journal_tail; fail "/proc/kmsg not read after the privilege drop"; }
uid=$(chroot "$root" id -u oxdrop)
gid=$(chroot "$root" id -g oxdrop)
grep -q "^Uid:[[:space:]]*${uid}[[:space:]]*${uid}[[:space:]]*${uid}[[:space:]]*${uid}\$" "$R/proc/$pid/status" \
    && grep -q "^Gid:[[:space:]]*${gid}[[:space:]]*${gid}[[:space:]]*${gid}[[:space:]]*${gid}\$" "$R/proc/$pid/status" \
    || fail "the daemon did not drop to oxdrop: $(grep -E '^(Uid|Gid)' "$R/proc/$pid/status" | tr '\n' ' ')"
[ "$(stat -c %u:%g "$R/var/log/oxdrop/local5.log")" = "$uid:$gid" ] || fail "the file was not created as oxdrop"
[ "$(ns systemctl is-active oxsyslog.service)" = active ] || fail "not active after the privilege drop"
rm "$R/etc/rsyslog.d/50-oxdrop.conf"
mv "$work/50-oxtest.conf" "$R/etc/rsyslog.d/50-oxtest.conf"
for f in "${logs[@]}"; do chroot "$root" chown root "/var/log/$f"; done
ns timeout 30 systemctl restart rsyslog || { journal_tail; fail "restart without the privilege drop"; }
say "dropped to oxdrop ($uid:$gid): its files written, a new one created as oxdrop, /proc/kmsg still read"

# ---------------------------------------------------------------------------------------------
# syslog.socket keeps the socket across restarts
# ---------------------------------------------------------------------------------------------

say "messages into syslog.socket while the daemon restarts 3 times"
ns systemctl reset-failed oxsyslog.service
sock_ino=$(stat -c %i "$R/run/systemd/journal/syslog")
start_sender oxrestart
sleep 0.3
for name in rsyslog syslog oxsyslog; do
    ns timeout 30 systemctl restart "$name" || { journal_tail; fail "systemctl restart $name"; }
    sleep 0.3
done
stop_sender oxrestart
got=$(count_received oxrestart)
[ "$got" = "$sent" ] || fail "restarts: $got of $sent messages logged"
[ "$(stat -c %i "$R/run/systemd/journal/syslog")" = "$sock_ino" ] || fail "the socket was recreated by the restarts"
say "restarts: $got of $sent messages sent into /run/systemd/journal/syslog logged; the same socket throughout"

# ---------------------------------------------------------------------------------------------
# Log rotation
# ---------------------------------------------------------------------------------------------

say "logrotate -f (our helper) and Debian's helper command"
pid=$(main_pid oxsyslog.service)
ns logrotate -f /etc/logrotate.conf > "$work/logrotate.out" 2>&1 || { cat "$work/logrotate.out" >&2; fail "logrotate -f"; }
[ -f "$R/var/log/syslog.1" ] || fail "syslog was not rotated"
ns logger -t oxtest -p user.notice "after logrotate"
wait_for /var/log/syslog "oxtest: after logrotate" || { journal_tail; fail "the daemon does not write the new /var/log/syslog after logrotate"; }
! grep -qF 'after logrotate' "$R/var/log/syslog.1" || fail "written to the rotated file"
[ "$(main_pid oxsyslog.service)" = "$pid" ] || fail "logrotate restarted the daemon instead of signalling it"
# what /usr/lib/rsyslog/rsyslog-rotate of Debian's rsyslog runs, by rsyslog's unit name
mv "$R/var/log/syslog" "$R/var/log/syslog.manual"
ns systemctl kill -s HUP rsyslog.service || fail "systemctl kill -s HUP rsyslog.service"
ns logger -t oxtest -p user.notice "after systemctl kill by rsyslog's name"
wait_for /var/log/syslog "oxtest: after systemctl kill by rsyslog's name" || { journal_tail; fail "no new /var/log/syslog after systemctl kill -s HUP rsyslog.service"; }
[ "$(main_pid oxsyslog.service)" = "$pid" ] || fail "the HUP restarted the daemon"
say "both reopened the files in the same process ($pid)"

# ---------------------------------------------------------------------------------------------
# Upgrade N → N+1
# ---------------------------------------------------------------------------------------------

say "upgrade $version → $next_version under systemd while messages flow into syslog.socket"
old=$(main_pid oxsyslog.service)
ns systemctl reset-failed oxsyslog.service
start_sender oxupgrade
sleep 0.3
apt_ns install -y /var/tmp/oxtest/oxsyslog-next.deb > "$work/apt-next.log" 2>&1 \
    || { tail -30 "$work/apt-next.log" >&2; fail "upgrade to $next_version"; }
sleep 0.3
stop_sender oxupgrade
got=$(count_received oxupgrade)
[ "$got" = "$sent" ] || fail "upgrade: $got of $sent messages logged"
[ "$(stat -c %i "$R/run/systemd/journal/syslog")" = "$sock_ino" ] || fail "the socket was recreated by the upgrade"
[ "$(ns dpkg-query -W -f='${Version}' oxsyslog)" = "$next_version" ] || fail "not upgraded"
pid=$(main_pid oxsyslog.service)
[ "$pid" != "$old" ] && [ "$pid" != 0 ] || fail "the upgrade did not restart the daemon"
[ "$(ns systemctl is-active oxsyslog.service)" = active ] || fail "not active after the upgrade"
say "upgraded, daemon restarted ($old → $pid): $got of $sent messages logged; the same socket throughout"

# ---------------------------------------------------------------------------------------------
# Removal, and back to rsyslog
# ---------------------------------------------------------------------------------------------

say "apt remove oxsyslog, apt install rsyslog"
apt_ns remove -y oxsyslog > "$work/apt-remove.log" 2>&1 || { tail -20 "$work/apt-remove.log" >&2; fail "apt-get remove oxsyslog"; }
for u in oxsyslog.service syslog.socket; do
    [ "$(ns systemctl is-active "$u" || true)" = inactive ] || fail "$u still active after the removal"
done
[ "$(cat "$R/proc/$pid/comm" 2>/dev/null || true)" != oxsyslogd ] || fail "oxsyslogd still runs"
apt_ns install -y --no-download --no-install-recommends rsyslog > "$work/apt-back.log" 2>&1 \
    || { tail -20 "$work/apt-back.log" >&2; fail "apt-get install rsyslog after oxsyslog"; }
[ "$(ns systemctl show -P Id syslog.service)" = rsyslog.service ] || fail "syslog.service is not rsyslog's again"
[ "$(ns systemctl is-active rsyslog.service)" = active ] || { journal_tail; fail "rsyslog.service not active"; }
[ "$(cat "$R/proc/$(main_pid rsyslog.service)/comm")" = rsyslogd ] || fail "rsyslog.service does not run rsyslogd"
ns logger -t oxtest -p local5.info "rsyslog again under systemd"
wait_for /var/log/local5.log "oxtest: rsyslog again under systemd" || { journal_tail; fail "rsyslogd does not log"; }
say "oxsyslog stopped with its socket on removal; rsyslog runs under systemd again"

stop_container
say "PASS ($(($(date +%s) - t0)) s)"
