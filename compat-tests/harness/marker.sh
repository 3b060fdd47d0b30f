#!/usr/bin/env bash
# Shows the corpus line behind a marker from the differential message tests.
#   compat-tests/harness/marker.sh oxm-0399u [oxd-0012x …]
# oxm-NNNN is message NNNN of the corpus (numbered in manifest.txt order), oxd-NNNN line NNNN of
# debian-logger.txt; the last letter is the transport: u imudp, l imtcp LF-framed,
# o imtcp octet-counted, x imuxsock (logger).
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../messages" && pwd)"
[ $# -gt 0 ] || { sed -n '2,6p' "$0"; exit 2; }
for m in "$@"; do
    case "$m" in
        oxm-[0-9][0-9][0-9][0-9]*) id=$((10#${m:4:4})); files=$(awk '!/^#/ && NF>=4 && $1!="total" {print "corpus/" $2 ".txt"}' "$dir/manifest.txt") ;;
        oxd-[0-9][0-9][0-9][0-9]*) id=$((10#${m:4:4})); files="debian-logger.txt" ;;
        *) echo "$m: not a marker (oxm-NNNN[ulox] or oxd-NNNNx)" >&2; exit 2 ;;
    esac
    (cd "$dir" && awk -v want="$id" -v m="$m" '
        /^#/ || /^$/ { next }
        { n++ }
        n == want { printf "%s  %s:%d\n  %s\n", m, FILENAME, FNR, $0; found = 1; exit }
        END { if (!found) { print m ": no such message" > "/dev/stderr"; exit 1 } }
    ' $files)
done
