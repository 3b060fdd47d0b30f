#!/bin/bash
# Records/s of omaudit (issue #10), end to end: N RFC 5424 messages over one TCP connection
# into oxsyslogd (release build) with one omaudit action; the clock stops when the audit file
# holds every record. Modes: record (Ed25519 per record), record-p256, batched (checkpoint
# every 1000 records), pkcs11 (ECDSA P-256 per record on SoftHSM2, if installed).
# Usage: scripts/bench-audit.sh [N]   (CARGO_TARGET_DIR as for cargo build --release)
set -euo pipefail
N=${1:-200000}
T=${CARGO_TARGET_DIR:-target}/release
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "<38>1 2026-11-23T10:00:00Z host app 42 LOGIN [audit@32473 eventStatus=\"SUCCESS\" authToken=\"CN=Admin\"] benchmark message %d\n", i }' > "$W/msgs"
"$T/oxaudit" keygen --type ed25519 --out "$W/ed" > /dev/null
"$T/oxaudit" keygen --type p256 --out "$W/p256" > /dev/null
HSM=""
if [ -e /usr/lib/softhsm/libsofthsm2.so ] && command -v softhsm2-util > /dev/null; then
    mkdir -p "$W/tokens"
    printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$W" > "$W/softhsm2.conf"
    export SOFTHSM2_CONF="$W/softhsm2.conf"
    softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 5678 > /dev/null
    (umask 077; echo 1234 > "$W/pin")
    "$T/oxaudit" keygen --type p256 --pkcs11-module /usr/lib/softhsm/libsofthsm2.so --token bench --pin-file "$W/pin" --label k --out "$W/hsm" > /dev/null
    HSM="key.type=\"pkcs11\" pkcs11.sharedLibrary=\"/usr/lib/softhsm/libsofthsm2.so\" pkcs11.tokenLabel=\"bench\" pkcs11.keyLabel=\"k\" pkcs11.pinFile=\"$W/pin\""
fi
run() { # name params pubkey
    local d="$W/$1"; mkdir -p "$d"
    cat > "$d/d.conf" <<CONF
module(load="imtcp")
module(load="omaudit")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="$d/port")
*.* action(type="omaudit" file="$d/audit.log" nodeId="bench" $2)
CONF
    "$T/oxsyslogd" -n -iNONE -f "$d/d.conf" 2> "$d/err" & local pid=$!
    while [ ! -s "$d/port" ]; do sleep 0.05; done
    local start; start=$(date +%s.%N)
    cat "$W/msgs" > "/dev/tcp/127.0.0.1/$(cat "$d/port")"
    until tail -c 4096 "$d/audit.log" 2> /dev/null | grep -q "benchmark message $((N - 1))\\\""; do sleep 0.05; done
    local end; end=$(date +%s.%N)
    kill "$pid"; wait "$pid" || true
    local v; v=$("$T/oxaudit" verify --pubkey "$3" "$d/audit.log" | tail -1)
    awk -v n="$N" -v s="$start" -v e="$end" -v name="$1" -v v="$v" 'BEGIN { printf "%-14s %9.0f records/s  (%s)\n", name, n / (e - s), v }'
}
echo "omaudit, $N messages, $(nproc) cores, $(date -u +%F)"
run record "key.file=\"$W/ed/audit.key\"" "$W/ed/audit.pub"
run record-p256 "key.file=\"$W/p256/audit.key\"" "$W/p256/audit.pub"
run batched "key.file=\"$W/ed/audit.key\" mode=\"batched\"" "$W/ed/audit.pub"
if [ -n "$HSM" ]; then
    run pkcs11 "$HSM" "$W/hsm/audit.pub"
fi
