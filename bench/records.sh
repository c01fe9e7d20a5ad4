#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/records.sh - the records benchmarks of issue 5 §6, in one run, on a throwaway stack of
# its own (scripts/lib.sh's test profile on ports offset by SESSHU_BENCH_PORT_OFFSET, default
# 2500, with the release build), on one database:
#  (b) POST /api/v1/immunizations through the gateway (authenticated, validated against the
#      masters and the person's history, Idempotency-Key, access-logged) against the bare
#      ulfius + libpq single-row INSERT of bench/peer/bare.c behind the same gateway;
#  (c) bulk import of N records as NDJSON (1 MiB chunks through the gateway, COPY into staging,
#      the set-based check, the write) against `psql \copy` of the same rows into a copy of the
#      records table with the same indexes, defaults, checks and foreign key.
# Prints req/s, p50, p99, the import times, the ratios, and the records service's memory.
# Loopback only; everything it starts it stops by PID.
# Usage: bench/records.sh [seconds=10] [connections=64] [records=1000000]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
. "$root/bench/lib.sh"
secs=${1:-10}
conns=${2:-64}
nrec=${3:-1000000}
(( nrec % 5 == 0 )) || { echo "bench: records must be a multiple of 5" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench: wrk missing (apt-get install wrk)" >&2; exit 1; }
[[ -d $root/tests/api/node_modules ]] || { echo "bench: run scripts/test.sh once (npm packages)" >&2; exit 1; }

SS_REPO=$root # read by scripts/lib.sh
export SS_REPO
# shellcheck source=../scripts/lib.sh
. "$root/scripts/lib.sh"
export SESSHU_TEST_PORT_OFFSET=${SESSHU_BENCH_PORT_OFFSET:-2500}
export SESSHU_ASAN_BUILD_DIR=${SESSHU_BENCH_BUILD:-$root/build}
ss_profile test
cmake --build "$SS_BIN_DIR" -j2 >/dev/null
work=$(mktemp -d /tmp/sesshu-bench-records.XXXXXX)
chmod 711 "$work"
ss_init "$work/var"
peer_pid=
cleanup() {
    [[ -n $peer_pid ]] && { kill "$peer_pid" 2>/dev/null || true; wait "$peer_pid" 2>/dev/null || true; }
    ss_stop_all >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# --- the stack (rate limits lifted: the gateway must not be what is measured) ---------------
export SESSHU_GW_API_RATE=1000000r/s SESSHU_GW_API_BURST=1000000
export SESSHU_GW_AUTH_RATE=1000000r/s SESSHU_GW_AUTH_BURST=1000000
export SESSHU_GW_TOKEN_RATE=1000000r/s SESSHU_GW_TOKEN_BURST=1000000
export SESSHU_ARGON2_M_KIB=1024 SESSHU_ARGON2_T=1
# A registration holds its connection for six statements and a commit: 8 connections keep
# more commits in flight (docs/architecture.md §10.3: 4-8 on two cores). The bare peer uses 4.
export SESSHU_DB_POOL=${SESSHU_BENCH_DB_POOL:-8}
ss_prepare_var
ss_make_secrets
ss_write_env "http://127.0.0.1:$SS_GW_PORT"
ss_pg_init >/dev/null
# SESSHU_BENCH_STATEMENTS=1: where the database's time goes (pg_stat_statements, top statements
# by total execution time after each part). Off by default: the extension has a cost of its own.
# SESSHU_BENCH_PROFILE=1: the plans, with each node's time (auto_explain): a sample of the
# registrations' statements in (b), the import's commit in (c); written to records-plans.txt in
# $SESSHU_BENCH_PERF_DIR (default the work directory, kept). Both off by default.
preload=()
[[ ${SESSHU_BENCH_STATEMENTS:-0} == 1 ]] && preload+=(pg_stat_statements)
[[ ${SESSHU_BENCH_PROFILE:-0} == 1 ]] && preload+=(auto_explain)
if ((${#preload[@]})); then
    printf "shared_preload_libraries = '%s'\npg_stat_statements.track = all\npg_stat_statements.track_planning = on\n" "$(IFS=,; echo "${preload[*]}")" |
        ss_as_pg tee -a "$SS_PGDATA/sesshu.conf" >/dev/null
fi
ss_pg_start >/dev/null
ss_pg_roles >/dev/null
ss_smtp_start >/dev/null
# shellcheck source=/dev/null
. "$SS_ENV_FILE"
ss_services_start 60 >/dev/null
bare_port=$((SS_PORT_BASE + 90))
records_pw=$(cat "$SESSHU_RECORDS_DB_PASSWORD_FILE")
# shellcheck disable=SC2153 # SESSHU_DB_* come from the sourced env file
"$SS_BIN_DIR/bench/peer/sesshu-bench-bare" "$bare_port" \
    "host=$SESSHU_DB_HOST port=$SESSHU_DB_PORT dbname=$SESSHU_DB_NAME user=sesshu_records password=$records_pw" &
peer_pid=$!
# The stack's gateway, plus one route to the bare peer.
ss_gw_render >/dev/null
python3 - "$SS_GW_DIR/nginx.conf" "$bare_port" <<'PY'
import sys
p, port = sys.argv[1], sys.argv[2]
s = open(p).read()
s = s.replace("http {", "http {\n    upstream bench_bare { server 127.0.0.1:%s; keepalive 32; }" % port, 1)
i = s.index("        location ")
s = s[:i] + "        location ^~ /bench/bare/ { proxy_pass http://bench_bare; }\n" + s[i:]
open(p, "w").write(s)
PY
ss_spawn gateway "$SS_LOGDIR/gateway-error.log" "$(command -v nginx || echo /usr/sbin/nginx)" -p "$SS_GW_DIR/" \
    -e "$SS_LOGDIR/gateway-error.log" -c "$SS_GW_DIR/nginx.conf" -g 'daemon off;'
base=http://127.0.0.1:$SS_GW_PORT
for _ in $(seq 100); do curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break; sleep 0.1; done
psql_super() { ss_psql_super -d "$SS_DB_NAME" "$@"; }
# statements TITLE: the top statements since the last call (SESSHU_BENCH_STATEMENTS=1 only).
statements() {
    [[ ${SESSHU_BENCH_STATEMENTS:-0} == 1 ]] || return 0
    echo "   database time by statement ($1): calls, total ms, mean ms, plans, planning ms, statement"
    psql_super -c "SELECT format('%9s %8s %7s %7s %7s  %s', calls, round(total_exec_time), round(mean_exec_time::numeric, 3), plans, round(total_plan_time), left(regexp_replace(query, '\s+', ' ', 'g'), 90)) FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 12"
    psql_super -c "SELECT pg_stat_statements_reset()" >/dev/null
}
[[ ${SESSHU_BENCH_STATEMENTS:-0} == 1 ]] && psql_super -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null

# --- data: persons for (b), service and peer, and for (c) ------------------------------------
nb=$(( secs * 12000 ))
nc=$(( nrec / 5 ))
echo "== setup: importing $(( 2 * nb + nc )) persons through the API"
setup=$(cd "$root/tests/api" && SESSHU_TEST_BASE_URL=$base SESSHU_TEST_ENV_FILE=$SS_ENV_FILE \
    SESSHU_TEST_ADMIN_PASSWORD=$(cat "$SS_SECRETS/admin-password") node "$root/bench/records-setup.mjs" "$nb" "$nc")
token=$(jq -r .token <<<"$setup")
muni=$(jq -r .muni <<<"$setup")
printf 'persons imported in %s s\n' "$(jq -r .persons_import_s <<<"$setup")"
psql_super -c "COPY (SELECT id FROM records.persons WHERE muni_code = '$muni' AND resident_no LIKE 'S%' ORDER BY resident_no) TO STDOUT" >"$work/ids-s.txt"
psql_super -c "COPY (SELECT id FROM records.persons WHERE muni_code = '$muni' AND resident_no LIKE 'P%' ORDER BY resident_no) TO STDOUT" >"$work/ids-p.txt"

# Each request registers dose 1 of 5種混合 for the next person of the list: a new, valid record.
cat >"$work/register.lua" <<'LUA'
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
local n, nthreads = 0, tonumber(os.getenv("THREADS"))
-- The light run takes the second half of the list (the first run used the first part).
if os.getenv("OFFSET") then n = math.floor(#ids / 2) end
function setup(thread) thread:set("tid", (tid_next or 0)); tid_next = (tid_next or 0) + 1 end
request = function()
    n = n + 1
    local id = ids[(((n - 1) * nthreads + tid) % #ids) + 1]
    local body = '{"person_id":"' .. id .. '","vaccinated_on":"2026-08-01","vaccine_code":"631300101",' ..
        '"dose_number":1,"lot_no":"GB001A","institution_code":"1311012346","doctor_name":"医師 一郎",' ..
        '"category":"routine"}'
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["Idempotency-Key"] = "b-" .. id
    return wrk.format("POST", nil, nil, body)
end
LUA

statements setup
# explain MIN_MS SAMPLE: auto_explain from now on for statements of MIN_MS or more, a SAMPLE of them.
explain() {
    [[ ${SESSHU_BENCH_PROFILE:-0} == 1 ]] || return 0
    psql_super -c "ALTER SYSTEM SET auto_explain.log_min_duration = $1" -c "ALTER SYSTEM SET auto_explain.sample_rate = $2" \
        -c "ALTER SYSTEM SET auto_explain.log_analyze = on" -c "ALTER SYSTEM SET auto_explain.log_buffers = on" \
        -c "ALTER SYSTEM SET auto_explain.log_nested_statements = on" -c "SELECT pg_reload_conf()" >/dev/null
}
explain 0 0.003
echo "== (b) registrations: service vs bare single-row INSERT (wrk -t2 -c$conns -d${secs}s)"
IDS_FILE=$work/ids-s.txt THREADS=2 bench_wrk register -t2 -c"$conns" -d"${secs}s" -s "$work/register.lua" \
    -H "Authorization: Bearer $token" "$base/api/v1/immunizations"
IDS_FILE=$work/ids-p.txt THREADS=2 bench_wrk bare_insert -t2 -c"$conns" -d"${secs}s" -s "$work/register.lua" \
    "$base/bench/bare/immunizations"
echo "   light load (wrk -t1 -c4), latency as one client sees it:"
light=$(( secs / 2 > 2 ? secs / 2 : 2 ))
IDS_FILE=$work/ids-s.txt THREADS=1 OFFSET=1 bench_wrk register_light -t1 -c4 -d"${light}s" -s "$work/register.lua" \
    -H "Authorization: Bearer $token" "$base/api/v1/immunizations"
IDS_FILE=$work/ids-p.txt THREADS=1 OFFSET=1 bench_wrk bare_insert_light -t1 -c4 -d"${light}s" -s "$work/register.lua" \
    "$base/bench/bare/immunizations"
statements "(b)"
awk -v a="${RPS[register]}" -v b="${RPS[bare_insert]}" 'BEGIN{printf "ratio (b) register/bare = %.2f (aim >= 0.6)\n", a/b}'
explain 2000 1
rec_pid=$(cat "$SS_RUN/records.pid")
printf 'records service VmRSS after (b): %s\n' "$(awk '/VmRSS/ {print $2" "$3}' "/proc/$rec_pid/status")"

# --- (c) the same N rows: psql \copy into a twin table, then our import ----------------------
echo "== (c) bulk import of $nrec records vs psql \\copy of the same rows"
# Five doses a person: 5種混合 1-4 and MR 1, all 定期 (born 2025-07-01; every dose after its
# lot's 国家検定 date, each interval past its minimum counted from the next day).
doses="('2025-09-15'::date,'631300101',1,'GB001A'),('2025-10-20','631300101',2,'GB001A'),('2025-11-25','631300101',3,'GB001A'),('2026-06-15','631300101',4,'GB001A'),('2026-07-15','631300601',1,'MR123')"
psql_super -c "COPY (SELECT p.resident_no, p.id, d.column1, d.column2, d.column3, d.column4 FROM records.persons p CROSS JOIN (VALUES $doses) d WHERE p.muni_code = '$muni' AND p.resident_no LIKE 'C%' ORDER BY p.resident_no, d.column1) TO STDOUT" >"$work/rows.tsv"
# The NDJSON the health-management system sends, and the rows psql copies (person resolved).
awk -F'\t' '{printf "{\"resident_no\":\"%s\",\"vaccinated_on\":\"%s\",\"vaccine_code\":\"%s\",\"dose_number\":%s,\"lot_no\":\"%s\",\"institution_code\":\"1311012346\",\"doctor_name\":\"医師 一郎\",\"dose_ml\":0.5,\"category\":\"routine\"}\n", $1, $3, $4, $5, $6}' "$work/rows.tsv" >"$work/records.ndjson"
awk -F'\t' -v m="$muni" '{d = ($4 == "631300601") ? "{measles,rubella}" : "{diphtheria,pertussis,tetanus,polio,hib}"; printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t1311012346\t医師 一郎\t0.5\troutine\troutine\thealth_system\t00000000-0000-4000-8000-000000000000\tbench\tbench\n", $2, m, m, $3, $4, d, $5, $6}' "$work/rows.tsv" >"$work/rows-copy.tsv"
mkdir -p "$work/chunks"
split -C 1000000 -d -a 4 "$work/records.ndjson" "$work/chunks/c"
# The reference table is laid out as records.immunizations is (records migration 048): hash
# partitions by municipality, the same indexes, the foreign key to the partitioned persons.
psql_super <<'SQL'
CREATE TABLE records.bench_copy (LIKE records.immunizations INCLUDING ALL,
    FOREIGN KEY (person_id, person_muni) REFERENCES records.persons (id, muni_code))
    PARTITION BY HASH (muni_code);
SELECT format('CREATE TABLE records.bench_copy_p%s PARTITION OF records.bench_copy '
              'FOR VALUES WITH (MODULUS 16, REMAINDER %s)', r, r)
FROM generate_series(0, 15) r \gexec
SQL
chmod 644 "$work/rows-copy.tsv"
t0=$(date +%s.%N)
psql_super -c "\\copy records.bench_copy (person_id, muni_code, person_muni, vaccinated_on, vaccine_code, disease_codes, dose_number, lot_no, institution_code, doctor_name, dose_ml, category, requested_category, source, registered_org_id, registered_by, updated_by) FROM '$work/rows-copy.tsv'"
t1=$(date +%s.%N)
copy_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')
psql_super -c "DROP TABLE records.bench_copy"
job=$(curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"kind":"immunizations","mode":"all_or_nothing"}' "$base/api/v1/linkage/imports" | jq -r .id)
t0=$(date +%s.%N)
for f in "$work"/chunks/c*; do
    curl -fsS -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/x-ndjson' \
        --data-binary "@$f" "$base/api/v1/linkage/imports/$job/lines"
done
t1=$(date +%s.%N)
result=$(curl -fsS -m 900 -X POST -H "Authorization: Bearer $token" "$base/api/v1/linkage/imports/$job/commit")
t2=$(date +%s.%N)
printf '%-26s %8s s\n' "psql \\copy" "$copy_s"
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN{printf "%-26s %8.2f s (chunks %.2f s, commit %.2f s)\n", "import (API)", c-a, b-a, c-b}'
printf 'import result: %s\n' "$(jq -c '{status, lines, imported, rejected}' <<<"$result")"
# The comparison holds only if every line was imported (the bench's data follows the rules).
if [[ $(jq -r '.imported' <<<"$result") != "$nrec" ]]; then
    echo "bench: the import took $(jq -r '.imported' <<<"$result") of $nrec lines; the figures are not comparable" >&2
    exit 1
fi
awk -v a="$t0" -v c="$t2" -v p="$copy_s" 'BEGIN{printf "ratio (c) copy_time/import_time = %.2f (aim >= 0.5)\n", p/(c-a)}'
statements "(c)"
if [[ ${SESSHU_BENCH_PROFILE:-0} == 1 ]]; then
    plans=${SESSHU_BENCH_PERF_DIR:-$work}/records-plans.txt
    # The log's "duration: … plan:" entries, each with the plan lines after it.
    awk '/LOG:  duration: .* plan:/ {on = 1} on && /^[0-9]{4}-[0-9]{2}-[0-9]{2} / && !/plan:/ {on = 0} on' \
        "$SS_LOGDIR/postgresql.log" >"$plans"
    echo "plans (auto_explain): $plans ($(grep -c 'plan:' "$plans") statements)"
fi
printf 'records service VmRSS after (c): %s\n' "$(awk '/VmRSS/ {print $2" "$3}' "/proc/$rec_pid/status")"
