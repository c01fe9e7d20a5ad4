# shellcheck shell=bash
# bench/lib.sh - what the benchmarks share: a wrk run read into req/s and latency figures.
# Sourced, never run. The caller sets $work, a directory for wrk's raw outputs.
# shellcheck disable=SC2154 # work is the caller's
# shellcheck disable=SC2034 # RPS and P99 are read by the caller

# Figures of the runs so far, by run name: requests per second and p99 in ms.
declare -gA RPS P99

# wrk's latency figure (e.g. 812.00us, 3.41ms, 1.02s) in milliseconds.
bench_ms() {
    awk -v v="$1" 'BEGIN{ if (v ~ /us$/) printf "%.3f", v/1000; else if (v ~ /ms$/) printf "%.3f", v+0; else if (v ~ /s$/) printf "%.3f", v*1000; else print v }'
}

# bench_perf NAME CMD...: CMD run under a system-wide CPU profile (perf, the cpu-clock software
# event: this VM has no hardware counters). Writes NAME.perf.txt into $SESSHU_BENCH_PERF_DIR
# (default $work): CPU by process, then the hottest symbols; prints the split by process on
# stderr. SESSHU_BENCH_PERF=1 turns it on in bench_wrk; the profiler costs a few per cent, so
# take figures from a run without it.
bench_perf() {
    local name=$1 data=$work/$1.perf.data rc
    shift
    perf record -a -F 499 -e cpu-clock -o "$data" -q -- "$@"
    rc=$?
    {
        echo "# CPU by process ($name)"
        perf report -i "$data" --no-children --sort comm --stdio -q 2>/dev/null | sed -n 1,15p
        echo "# hottest symbols"
        perf report -i "$data" --no-children --sort comm,dso,sym --stdio -q 2>/dev/null | sed -n 1,60p
    } >"${SESSHU_BENCH_PERF_DIR:-$work}/$name.perf.txt"
    printf '  cpu %s:' "$name" >&2
    perf report -i "$data" --no-children --sort comm --stdio -q 2>/dev/null |
        awk 'NF >= 2 && $1 ~ /%$/ && n++ < 8 { printf " %s %s", $2, $1 }' >&2
    echo >&2
    rm -f "$data"
    return "$rc"
}

# bench_wrk NAME WRK-ARGS...: wrk --latency into $work/NAME.txt, one line of figures printed,
# RPS[NAME] and P99[NAME] kept for the ratios.
bench_wrk() {
    local name=$1 out rps p50 p99 bad
    shift
    out=$work/$name.txt
    if [[ ${SESSHU_BENCH_PERF:-0} == 1 ]]; then
        bench_perf "$name" wrk --latency "$@" >"$out"
    else
        wrk --latency "$@" >"$out"
    fi
    rps=$(awk '/^Requests\/sec/ {print $2}' "$out")
    p50=$(bench_ms "$(awk '$1=="50%" {print $2}' "$out")")
    p99=$(bench_ms "$(awk '$1=="99%" {print $2}' "$out")")
    bad=$(awk '/Non-2xx or 3xx responses/ {print $NF}' "$out")
    printf '%-34s %10s req/s   p50 %8s ms   p99 %8s ms%s\n' "$name" "$rps" "$p50" "$p99" \
        "${bad:+   non-2xx/3xx $bad}"
    RPS[$name]=$rps
    P99[$name]=$p99
}
