#!/bin/bash
# Runs a config checker ("rsyslogd -N1" by default) over the config-check corpus and the
# conf-examples, and prints a summary.  No network, no root needed, nothing outside
# /tmp/oxsyslog-n1/ is written.
#
# Usage: compat-tests/config-check/verify-with-rsyslogd.sh [-v] [-q] [FILE...]
#   -v        print the checker's output for every file, not only for failures
#   -q        print only failures and the summary
#   FILE...   check only these files (paths to .conf files of the corpus or conf-examples)
#
# Environment:
#   CHECKER   the binary to run (default: rsyslogd from PATH, else /usr/sbin/rsyslogd);
#             it is called as "$CHECKER -N1 -f <absolute path>"
#   MODE      "rsyslog" (default) or "oxsyslog".  In oxsyslog mode the files in disagree/
#             must be REJECTED, those in extensions/ ACCEPTED, and files marked
#             "# oxsyslog-only:" are checked too; in rsyslog mode disagree/ files must be
#             ACCEPTED, extensions/ files REJECTED and oxsyslog-only files skipped.
#
# Expectations:
#   valid/*.conf         exit 0 and no output line containing "error"
#   invalid/*.conf       non-zero exit (a crash, exit >= 128, counts as rejected but is flagged)
#   disagree/*.conf      rsyslog: exit 0; oxsyslog: non-zero exit
#   extensions/*.conf    rsyslog: non-zero exit (8.2302 lacks the function); oxsyslog: exit 0
#   conf-examples/*.conf exit 0, run with the repo root as the current directory
# corpus files are run with their own directory as the current directory (relative
# include paths such as ../includes/x.conf resolve against it), and every file is run with
# OXSYSLOG_TEST_VAR=from-env in the environment.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
verbose=0
quiet=0
while [ $# -gt 0 ]; do
	case "$1" in
	-v) verbose=1; shift ;;
	-q) quiet=1; shift ;;
	--) shift; break ;;
	-*) echo "unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done

MODE=${MODE:-rsyslog}
if [ -z "${CHECKER:-}" ]; then
	CHECKER=$(command -v rsyslogd 2>/dev/null || echo /usr/sbin/rsyslogd)
fi
if [ ! -x "$CHECKER" ] && ! command -v "$CHECKER" >/dev/null 2>&1; then
	echo "checker '$CHECKER' not found" >&2
	exit 2
fi

# State directories some configs need to exist (workDirectory / $WorkDirectory).
mkdir -p /tmp/oxsyslog-n1/work

pass=0
fail=0
crash=0
skipped=0
failures=""
declare -A cat_pass cat_fail

header() { # header FILE NAME -> value of "# NAME: value" among the leading comment lines
	sed -n "1,8{s/^# $2: //p}" "$1" | head -n 1
}

run_one() { # run_one CATEGORY FILE CWD EXPECT(accept|reject)
	local cat=$1 file=$2 cwd=$3 expect=$4 out rc ok note=""
	out=$(cd "$cwd" && OXSYSLOG_TEST_VAR=from-env timeout 60 "$CHECKER" -N1 -f "$file" 2>&1)
	rc=$?
	ok=0
	if [ "$expect" = accept ]; then
		if [ $rc -eq 0 ] && ! printf '%s\n' "$out" | grep -qi 'error'; then ok=1; fi
	else
		if [ $rc -ne 0 ]; then ok=1; fi
		if [ $rc -ge 124 ]; then note=" (exit $rc: crash or timeout)"; crash=$((crash + 1)); fi
	fi
	# header checks for the corpus
	case "$cat" in
	invalid)
		for h in kind expect-error-line rsyslog-says; do
			if [ -z "$(header "$file" "$h")" ]; then ok=0; note="$note (missing header '# $h:')"; fi
		done ;;
	extensions)
		for h in reason function; do
			if [ -z "$(header "$file" "$h")" ]; then ok=0; note="$note (missing header '# $h:')"; fi
		done ;;
	disagree)
		for h in reason expect-error-line; do
			if [ -z "$(header "$file" "$h")" ]; then ok=0; note="$note (missing header '# $h:')"; fi
		done ;;
	valid)
		if ! head -n 1 "$file" | grep -q '^# covers: '; then ok=0; note="$note (first line is not '# covers: ...')"; fi ;;
	esac
	local rel=${file#"$root"/}
	if [ $ok -eq 1 ]; then
		pass=$((pass + 1)); cat_pass[$cat]=$(( ${cat_pass[$cat]:-0} + 1 ))
		[ $quiet -eq 0 ] && echo "ok    $rel (exit $rc, expected $expect)$note"
	else
		fail=$((fail + 1)); cat_fail[$cat]=$(( ${cat_fail[$cat]:-0} + 1 ))
		failures="$failures
  $rel (exit $rc, expected $expect)$note"
		echo "FAIL  $rel (exit $rc, expected $expect)$note"
	fi
	if [ $verbose -eq 1 ] || [ $ok -eq 0 ]; then
		printf '%s\n' "$out" | sed 's/^/        | /'
	fi
}

check_file() { # check_file FILE (absolute)
	local f=$1 dir cat
	dir=$(dirname "$f")
	case "$f" in
	"$here"/valid/*) run_one valid "$f" "$dir" accept ;;
	"$here"/invalid/*) run_one invalid "$f" "$dir" reject ;;
	"$here"/disagree/*)
		if [ "$MODE" = oxsyslog ]; then run_one disagree "$f" "$dir" reject
		else run_one disagree "$f" "$dir" accept; fi ;;
	"$here"/extensions/*)
		if [ "$MODE" = oxsyslog ]; then run_one extensions "$f" "$dir" accept
		else run_one extensions "$f" "$dir" reject; fi ;;
	"$root"/conf-examples/*)
		if head -n 1 "$f" | grep -q '^# oxsyslog-only:' && [ "$MODE" != oxsyslog ]; then
			skipped=$((skipped + 1))
			[ $quiet -eq 0 ] && echo "skip  ${f#"$root"/} (oxsyslog-only)"
		else
			run_one conf-examples "$f" "$root" accept
		fi ;;
	*) echo "not part of the corpus: $f" >&2 ;;
	esac
}

if [ $# -gt 0 ]; then
	for f in "$@"; do
		check_file "$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"
	done
else
	for f in "$here"/valid/*.conf "$here"/invalid/*.conf "$here"/disagree/*.conf "$here"/extensions/*.conf "$root"/conf-examples/*.conf; do
		[ -f "$f" ] && check_file "$f"
	done
fi

echo
echo "checker: $CHECKER (mode $MODE)"
for c in valid invalid disagree extensions conf-examples; do
	p=${cat_pass[$c]:-0}; q=${cat_fail[$c]:-0}
	[ $((p + q)) -gt 0 ] && printf '  %-14s %3d ok, %d failed\n' "$c" "$p" "$q"
done
[ $skipped -gt 0 ] && echo "  skipped (oxsyslog-only): $skipped"
[ $crash -gt 0 ] && echo "  rejected by crash/timeout (exit >= 124): $crash"
echo "total: $pass ok, $fail failed"
if [ $fail -gt 0 ]; then
	echo "failures:$failures"
	exit 1
fi
exit 0
