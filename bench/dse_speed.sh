#!/bin/sh
# dse_speed.sh: points per second of `kolmo dse` on the 200-point digits sweep
# (examples/dse/digits_sweep.yaml: digits_kan on edge-kan), with full simulation and with --fast,
# on 1 and 2 threads and on 1 and 2 MPI ranks; scaling efficiency = speedup / workers.
# Each configuration runs REPS times (default 3) into a fresh directory; the best run counts
# (the machine is shared). "eval" is the evaluation phase that kolmo dse times itself (points/s
# as printed by --json); "wall" includes start-up, MPI start-up and writing the outputs.
#   usage: bench/dse_speed.sh [BUILD_DIR] [REPS]
set -eu
BUILD=${1:-build}
REPS=${2:-3}
SRC=$(cd "$(dirname "$0")/.." && pwd)
KOLMO="$BUILD/bin/kolmo"
SWEEP="$SRC/examples/dse/digits_sweep.yaml"
TMP=$(mktemp -d /tmp/dse-bench-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
MPIRUN="mpirun --allow-run-as-root --oversubscribe"

# one LABEL ARGS...: best of REPS; prints eval seconds, points/s and wall seconds.
one() {
	label=$1
	shift
	best=""
	for r in $(seq "$REPS"); do
		rm -rf "$TMP/out"
		t0=$(date +%s.%N)
		"$@" "$SWEEP" -o "$TMP/out" --json --no-progress >"$TMP/j.json"
		t1=$(date +%s.%N)
		line=$(python3 -c "
import json,sys
j=json.load(open('$TMP/j.json'))['run']
print('%.3f %.1f %.3f' % (j['seconds'], j['points_per_s'], $t1-$t0))")
		sec=${line%% *}
		if [ -z "$best" ] || [ "$(echo "$sec < ${best%% *}" | bc)" = 1 ]; then
			best=$line
		fi
	done
	set -- $best
	printf '%-28s eval %7.3f s  %7.1f points/s  wall %6.3f s\n' "$label" "$1" "$2" "$3"
	echo "$label $1" >>"$TMP/results"
}

echo "kolmo dse speed: $(nproc) cores, 200 points of digits_kan on edge-kan, best of $REPS"
one "simulate, 1 thread" "$KOLMO" dse -j 1
one "simulate, 2 threads" "$KOLMO" dse -j 2
one "simulate, 2 MPI ranks" $MPIRUN -np 2 "$KOLMO" dse -j 1
one "--fast, 1 thread" "$KOLMO" dse --fast -j 1
one "--fast, 2 threads" "$KOLMO" dse --fast -j 2
one "--fast, 2 MPI ranks" $MPIRUN -np 2 "$KOLMO" dse --fast -j 1
# Control: two independent single-thread sweeps at once. On an idle 2-core machine each takes as
# long as one alone; on a shared machine this shows how much parallelism was available.
best=""
for r in $(seq "$REPS"); do
	rm -rf "$TMP/c1" "$TMP/c2"
	"$KOLMO" dse "$SWEEP" -o "$TMP/c1" --no-progress --json >"$TMP/c1.json" &
	"$KOLMO" dse "$SWEEP" -o "$TMP/c2" --no-progress --json >"$TMP/c2.json"
	wait
	w=$(python3 -c "
import json
print('%.3f' % max(json.load(open('$TMP/c%d.json' % k))['run']['seconds'] for k in (1, 2)))")
	if [ -z "$best" ] || [ "$(echo "$w < $best" | bc)" = 1 ]; then best=$w; fi
done
printf '%-28s eval %7.3f s  (the slower of two 200-point sweeps run at once)\n' \
	"control: 2 processes" "$best"
echo "control $best" >>"$TMP/results"
python3 - "$TMP/results" <<'PY'
import sys
r = {}
for line in open(sys.argv[1]):
    *label, sec = line.split()
    r[" ".join(label)] = float(sec)
# The control's capacity: 2 x (one process's wall) / (two processes' wall). 2.0 on an idle
# machine; about 1.0 when other work holds a core.
cap = None
if "control" in r:
    one_wall = r["simulate, 1 thread"]
    cap = 2 * one_wall / r["control"]
    print("machine parallel capacity (control): %.2f of 2" % cap)
for mode in ("simulate", "--fast"):
    one = r[mode + ", 1 thread"]
    for k in ("2 threads", "2 MPI ranks"):
        s = one / r[mode + ", " + k]
        print("%-10s %-12s speedup %.2f  efficiency %3.0f%%" % (mode, k, s, 100 * s / 2))
PY
