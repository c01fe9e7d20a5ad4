# shellcheck shell=bash
# bench/lib.sh - what the benchmarks share: a wrk run read into req/s and latency figures, and
# the throwaway stack they run on (bench_stack).
# Sourced, never run. The caller sets $work, a directory for wrk's raw outputs (bench_stack makes
# it), and, for bench_stack, has sourced scripts/lib.sh.
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

# bench_stack NAME OFFSET: the throwaway stack of a benchmark, up to its services. The caller has
# sourced scripts/lib.sh (SS_REPO set) and defined cleanup(), which stops what runs (ss_stop_all)
# and removes $work: it is trapped on EXIT (and TERM/INT exit) before anything starts. Then:
# scripts/lib.sh's test profile on ports moved by SESSHU_BENCH_PORT_OFFSET (default OFFSET, one
# per benchmark, so that two can run side by side), the normal build (SESSHU_BENCH_BUILD, default
# build/) brought up to date, $work a fresh directory under SESSHU_BENCH_TMPDIR (default /tmp),
# the gateway's rate limits lifted (the gateway must not be what is measured) and cheap password
# hashing, then PostgreSQL with its roles, the SMTP sink and every service, the environment file
# sourced. The gateway is the caller's to start (some add locations of their own first).
# A caller that needs PostgreSQL settings of its own (pg_stat_statements, WAL room for a load)
# defines bench_pg_conf, which runs between initdb and the server's start.
# shellcheck disable=SC2034 # work is the caller's
bench_stack() {
    local name=$1 offset=$2
    export SESSHU_TEST_PORT_OFFSET=${SESSHU_BENCH_PORT_OFFSET:-$offset}
    export SESSHU_ASAN_BUILD_DIR=${SESSHU_BENCH_BUILD:-$SS_REPO/build}
    ss_profile test
    cmake --build "$SS_BIN_DIR" -j2 >/dev/null
    work=$(mktemp -d "${SESSHU_BENCH_TMPDIR:-/tmp}/sesshu-bench-$name.XXXXXX")
    chmod 711 "$work"
    ss_init "$work/var"
    trap cleanup EXIT
    trap "exit 1" TERM INT
    export SESSHU_GW_API_RATE=1000000r/s SESSHU_GW_API_BURST=1000000
    export SESSHU_GW_AUTH_RATE=1000000r/s SESSHU_GW_AUTH_BURST=1000000
    export SESSHU_GW_TOKEN_RATE=1000000r/s SESSHU_GW_TOKEN_BURST=1000000
    export SESSHU_ARGON2_M_KIB=1024 SESSHU_ARGON2_T=1
    ss_prepare_var
    ss_make_secrets
    ss_write_env "http://127.0.0.1:$SS_GW_PORT"
    ss_pg_init >/dev/null
    if declare -F bench_pg_conf >/dev/null; then bench_pg_conf; fi
    ss_pg_start >/dev/null
    ss_pg_roles >/dev/null
    ss_smtp_start >/dev/null
    # shellcheck source=/dev/null
    . "$SS_ENV_FILE"
    ss_services_start 60 >/dev/null
}
