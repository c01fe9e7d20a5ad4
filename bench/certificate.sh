#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/certificate.sh - the certificate benchmarks of issue 11 (H-5), in one run, on a throwaway
# stack of its own (scripts/lib.sh's test profile on ports offset by SESSHU_BENCH_PORT_OFFSET,
# default 2600, with the release build), through the gateway, authenticated and access-logged:
#  (a) SMART Health Card issuance through the portal: POST /api/v1/certificates/self with a
#      vaccinee token (the person and records read from the records service with the caller's
#      token, names from the masters, the bundle, raw DEFLATE, ES256, the log insert, the access
#      log), against the bound of a card in the same run: raw DEFLATE + ES256 alone on both cores
#      (bench/peer/shcref.c, OpenSSL and zlib), and against DIVOC's published 418/s
#      (issue 11's aim: >= 4,200/s, 10x);
#  (b) paper issuance by staff, POST /api/v1/certificates (the same card, the identity check);
#  (c) the PDF, GET /api/v1/certificates/:id/pdf (the log entry read, the status brought up to
#      date from the records feed, cairo + pango + IPAex subset + the QR), against the service's
#      renderer in process on both cores (bench/peer/pdfref.c) and DIVOC's 250/s (aim >= 1,000/s,
#      4x);
#  (d) verification, POST /api/v1/certificates/verify (no login; its rate limit lifted).
# Light-load p99 (wrk -t1 -c4) for each, the CPU time a request costs in each part of the stack
# (certificate, records, token, account, audit, master, gateway, PostgreSQL), and the
# certificate service's memory.
# Loopback only; everything it starts it stops by PID.
# Usage: bench/certificate.sh [seconds=10] [connections=64] [persons=32]
# SESSHU_BENCH_PARTS (default abcd) makes only some of the runs; SESSHU_BENCH_STATEMENTS=1 prints
# each statement's execution and planning time a call (pg_stat_statements, track_planning).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
. "$root/bench/lib.sh"
secs=${1:-10}
conns=${2:-64}
npersons=${3:-32}
# SESSHU_BENCH_PARTS: which of the runs (a)-(d) to make, e.g. "ac" (default all).
run_parts=${SESSHU_BENCH_PARTS:-abcd}
for c in wrk jq curl nginx; do command -v "$c" >/dev/null || { echo "bench: $c missing" >&2; exit 1; }; done
[[ -d $root/tests/api/node_modules ]] || { echo "bench: run scripts/test.sh once (npm packages)" >&2; exit 1; }

SS_REPO=$root # read by scripts/lib.sh
export SS_REPO
# shellcheck source=../scripts/lib.sh
. "$root/scripts/lib.sh"
export SESSHU_TEST_PORT_OFFSET=${SESSHU_BENCH_PORT_OFFSET:-2600}
export SESSHU_ASAN_BUILD_DIR=${SESSHU_BENCH_BUILD:-$root/build}
ss_profile test
cmake --build "$SS_BIN_DIR" -j2 >/dev/null
work=$(mktemp -d /tmp/sesshu-bench-certificate.XXXXXX)
chmod 711 "$work"
ss_init "$work/var"
cleanup() {
    ss_stop_all >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# --- the stack (rate limits lifted: the gateway must not be what is measured) ---------------
export SESSHU_GW_API_RATE=1000000r/s SESSHU_GW_API_BURST=1000000
export SESSHU_GW_AUTH_RATE=1000000r/s SESSHU_GW_AUTH_BURST=1000000
export SESSHU_GW_TOKEN_RATE=1000000r/s SESSHU_GW_TOKEN_BURST=1000000
export SESSHU_GW_VERIFY_RATE=1000000r/s SESSHU_GW_VERIFY_BURST=1000000
export SESSHU_ARGON2_M_KIB=1024 SESSHU_ARGON2_T=1
export SESSHU_DB_POOL=${SESSHU_BENCH_DB_POOL:-8}
ss_prepare_var
ss_make_secrets
ss_write_env "http://127.0.0.1:$SS_GW_PORT"
ss_pg_init >/dev/null
# SESSHU_BENCH_STATEMENTS=1: pg_stat_statements on, and the statements that cost PostgreSQL most
# printed after each run (a diagnosis; it slows the database a little).
pg_stats=${SESSHU_BENCH_STATEMENTS:-0}
if [[ $pg_stats == 1 ]]; then
    printf "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = all\npg_stat_statements.track_planning = on\n" >>"$SS_PGDATA/postgresql.conf"
fi
ss_pg_start >/dev/null
ss_pg_roles >/dev/null
[[ $pg_stats == 1 ]] && ss_psql_super -d "$SS_DB_NAME" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
ss_smtp_start >/dev/null
# shellcheck source=/dev/null
. "$SS_ENV_FILE"
ss_services_start 60 >/dev/null
ss_gw_render >/dev/null
ss_spawn gateway "$SS_LOGDIR/gateway-error.log" "$(command -v nginx || echo /usr/sbin/nginx)" -p "$SS_GW_DIR/" \
    -e "$SS_LOGDIR/gateway-error.log" -c "$SS_GW_DIR/nginx.conf" -g 'daemon off;'
base=http://127.0.0.1:$SS_GW_PORT
for _ in $(seq 100); do curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break; sleep 0.1; done

# --- data: residents with a dose, their vaccinee tokens, a paper certificate each ------------
echo "== setup: $npersons residents, a dose, a vaccinee token and a certificate each"
(cd "$root/tests/api" && SESSHU_TEST_BASE_URL=$base SESSHU_TEST_ENV_FILE=$SS_ENV_FILE \
    SESSHU_TEST_ADMIN_PASSWORD=$(cat "$SS_SECRETS/admin-password") \
    node "$root/bench/certificate-setup.mjs" "$npersons") >"$work/setup.json"
staff=$(jq -r .staff "$work/setup.json")
jq -r '.tokens[]' "$work/setup.json" >"$work/tokens.txt"
jq -r '.persons[]' "$work/setup.json" >"$work/persons.txt"
jq -r '.certs[]' "$work/setup.json" >"$work/certs.txt"
jq -r .payload "$work/setup.json" | tr -d '\n' >"$work/payload.json"
jq '.sample' "$work/setup.json" >"$work/sample.json"
jws=$(jq -r .sample.jws "$work/setup.json")
printf 'card payload %s bytes, card %s characters\n' "$(wc -c <"$work/payload.json")" "${#jws}"

# Each request takes the next line of LIST_FILE: a token (a), a person id (b), a certificate id (c).
cat >"$work/rotate.lua" <<'LUA'
local items = {}
for line in io.lines(os.getenv("LIST_FILE")) do items[#items + 1] = line end
local mode, staff, n = os.getenv("MODE"), os.getenv("STAFF"), 0
request = function()
    n = n + 1
    local it = items[(n % #items) + 1]
    if mode == "self" then
        return wrk.format("POST", "/api/v1/certificates/self",
            { ["Authorization"] = "Bearer " .. it, ["Content-Type"] = "application/json" }, "{}")
    elseif mode == "paper" then
        return wrk.format("POST", "/api/v1/certificates",
            { ["Authorization"] = "Bearer " .. staff, ["Content-Type"] = "application/json" },
            '{"person_id":"' .. it .. '","identity_check":{"method":"my_number_card"}}')
    end
    return wrk.format("GET", "/api/v1/certificates/" .. it .. "/pdf", { ["Authorization"] = "Bearer " .. staff })
end
LUA
cat >"$work/verify.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"credential":"$jws"}'
wrk.headers["Content-Type"] = "application/json"
LUA
light=$(( secs / 2 > 2 ? secs / 2 : 2 ))
export STAFF=$staff

# CPU time (utime + stime, clock ticks) of each part of the stack, a process and its direct
# children (PostgreSQL's backends, nginx's workers): what a request costs where, which says
# what bounds it even on a loaded machine (CPU time, not wall time).
parts=(certificate records token account audit master gateway postgres)
part_pid() {
    if [[ $1 == postgres ]]; then head -1 "$SS_PGDATA/postmaster.pid"; else cat "$SS_RUN/$1.pid"; fi
}
ticks() {
    local t=0 p
    for p in "$1" $(pgrep -P "$1" || true); do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$t"
}
declare -A T0
cpu_mark() {
    local p
    for p in "${parts[@]}"; do T0[$p]=$(ticks "$(part_pid "$p")"); done
    if [[ $pg_stats == 1 ]]; then ss_psql_super -d "$SS_DB_NAME" -c "SELECT pg_stat_statements_reset()" >/dev/null; fi
}
pg_top() {
    [[ $pg_stats == 1 ]] || return 0
    # exec + plan time (track_planning): a custom plan made anew every call shows as plan time.
    ss_psql_super -d "$SS_DB_NAME" -F ' | ' -c "SELECT round((total_exec_time + total_plan_time)::numeric, 0) || ' ms', calls, round((total_exec_time / greatest(calls, 1))::numeric, 3) || ' exec', round((total_plan_time / greatest(calls, 1))::numeric, 3) || ' plan ms/call', left(regexp_replace(query, '\\s+', ' ', 'g'), 120) FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT ${SESSHU_BENCH_STATEMENTS_TOP:-12}" | sed 's/^/      /'
}
# cpu_report RUN: CPU ms a request in each part during the run just made (RPS[RUN] x secs).
cpu_report() {
    local p d line="" hz n
    hz=$(getconf CLK_TCK)
    n=$(awk -v r="${RPS[$1]}" -v s="$secs" 'BEGIN{printf "%d", r * s}')
    for p in "${parts[@]}"; do
        d=$(( $(ticks "$(part_pid "$p")") - T0[$p] ))
        (( d > 0 )) && line+=$(awk -v d="$d" -v hz="$hz" -v n="$n" -v p="$p" 'BEGIN{printf " %s %.2f", p, d * 1000 / hz / (n > 0 ? n : 1)}')
    done
    printf '   CPU ms a request:%s\n' "$line"
    pg_top
}

if [[ $run_parts == *a* ]]; then
    echo "== (a) SHC issuance through the portal (wrk -t2 -c$conns -d${secs}s) vs DEFLATE + ES256 alone"
    cpu_mark
    LIST_FILE=$work/tokens.txt MODE=self bench_wrk shc_self -t2 -c"$conns" -d"${secs}s" -s "$work/rotate.lua" "$base"
    cpu_report shc_self
    LIST_FILE=$work/tokens.txt MODE=self bench_wrk shc_self_light -t1 -c4 -d"${light}s" -s "$work/rotate.lua" "$base"
    sign_rate=$("$SS_BIN_DIR/bench/peer/sesshu-bench-shcref" 2 "$secs" "$work/payload.json")
    printf '%-34s %10s cards/s\n' "raw DEFLATE + ES256, 2 threads" "$sign_rate"
    awk -v a="${RPS[shc_self]}" -v b="$sign_rate" 'BEGIN{printf "ratio (a) issuance/bound = %.3f; against DIVOC 418/s: %.1fx (aim >= 10x, 4,200/s)\n", a/b, a/418}'
fi

if [[ $run_parts == *b* ]]; then
    echo "== (b) paper issuance by staff (the same card and the identity check)"
    cpu_mark
    LIST_FILE=$work/persons.txt MODE=paper bench_wrk paper -t2 -c"$conns" -d"${secs}s" -s "$work/rotate.lua" "$base"
    cpu_report paper
    LIST_FILE=$work/persons.txt MODE=paper bench_wrk paper_light -t1 -c4 -d"${light}s" -s "$work/rotate.lua" "$base"
fi

if [[ $run_parts == *c* ]]; then
    echo "== (c) the PDF (GET …/pdf) vs the renderer in process"
    cpu_mark
    LIST_FILE=$work/certs.txt MODE=pdf bench_wrk pdf -t2 -c"$conns" -d"${secs}s" -s "$work/rotate.lua" "$base"
    cpu_report pdf
    LIST_FILE=$work/certs.txt MODE=pdf bench_wrk pdf_light -t1 -c4 -d"${light}s" -s "$work/rotate.lua" "$base"
    pdf_rate=$("$SS_BIN_DIR/bench/peer/sesshu-bench-pdfref" 2 "$secs" "$work/sample.json")
    printf '%-34s %10s PDFs/s\n' "cert_pdf in process, 2 threads" "$pdf_rate"
    awk -v a="${RPS[pdf]}" -v b="$pdf_rate" 'BEGIN{printf "ratio (c) endpoint/renderer = %.3f; against DIVOC 250/s: %.1fx (aim >= 4x, 1,000/s)\n", a/b, a/250}'
fi

if [[ $run_parts == *d* ]]; then
    echo "== (d) verification (public, rate limit lifted)"
    cpu_mark
    bench_wrk verify -t2 -c"$conns" -d"${secs}s" -s "$work/verify.lua" "$base/api/v1/certificates/verify"
    cpu_report verify
    bench_wrk verify_light -t1 -c4 -d"${light}s" -s "$work/verify.lua" "$base/api/v1/certificates/verify"
fi

cert_pid=$(cat "$SS_RUN/certificate.pid")
printf 'certificate service VmRSS after the run: %s (VmHWM %s)\n' \
    "$(awk '/VmRSS/ {print $2" "$3}' "/proc/$cert_pid/status")" "$(awk '/VmHWM/ {print $2" "$3}' "/proc/$cert_pid/status")"
