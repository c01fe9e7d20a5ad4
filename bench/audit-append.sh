#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/audit-append.sh - what one call of audit.append costs the database (issue 14 §3): the
# append of audit migration 011 against the newest one (012 on), back to back in one run, with
# SELECT 1 and a plain INSERT of the same row (the chain fields given, no function) as
# references. Every write request pays one such call for its own row in its transaction.
# On a throwaway PostgreSQL of its own (scripts/lib.sh's test profile on ports offset by
# SESSHU_BENCH_PORT_OFFSET, default 2700; nothing else of the stack): the audit migrations up
# to 011 as the audit service applies them (its role, one transaction each), 011's append kept
# as audit.append_011, then the later migrations; the log filled with L rows (default
# 100,000; the indexes a real size) through the new append in 500-row batches.
# Measured, each `rounds` times, the variants alternating within a round (same machine load):
#   pgbench -M prepared -c1 -T<secs>, as a writer role (sesshu_records), synchronous_commit off
#   (the WAL flush is not the function's), each call its own transaction: latency a call, and
#   the backend's CPU a call (its utime+stime from /proc over the run);
#   batches of 1, 5 and 100 rows (the group commit's batches; a write's own row is one).
# SESSHU_BENCH_IR=1 adds the instructions a call (valgrind, a single-user backend on a copy of
# the cluster, CALLS and 5xCALLS calls each its own transaction, the difference / 4xCALLS):
# load-independent, so the figure to compare on a shared machine.
# Prints medians and the ratios new/011. Loopback only; what it starts it stops by PID; its
# directory is removed at the end.
# Usage: bench/audit-append.sh [seconds=5] [rounds=3] [logrows=100000]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
secs=${1:-5}
rounds=${2:-3}
nl=${3:-100000}
[[ $secs =~ ^[0-9]+$ && $rounds =~ ^[0-9]+$ && $nl =~ ^[0-9]+$ ]] ||
    { echo "bench: counts must be whole numbers" >&2; exit 1; }

SS_REPO=$root # read by scripts/lib.sh
export SS_REPO
# shellcheck source=../scripts/lib.sh
. "$root/scripts/lib.sh"
export SESSHU_TEST_PORT_OFFSET=${SESSHU_BENCH_PORT_OFFSET:-2700}
ss_profile test
work=$(mktemp -d "${SESSHU_BENCH_TMPDIR:-/tmp}/sesshu-bench-append.XXXXXX")
chmod 711 "$work"
ss_init "$work/var"
cleanup() {
    ss_pg_stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
trap "exit 1" TERM INT

ss_prepare_var
ss_make_secrets
ss_pg_init >/dev/null
ss_pg_start >/dev/null
ss_pg_roles >/dev/null
psql_super() { ss_psql_super -d "$SS_DB_NAME" "$@"; }
# as ROLE: a password login over TCP, as the services connect.
as_role() {
    local r=$1
    shift
    PGPASSWORD=$(cat "$SS_SECRETS/db-${r#sesshu_}.pw") "$SS_PGBIN/$1" "${@:2}" \
        -h 127.0.0.1 -p "$SS_PG_PORT" -U "$r" "$SS_DB_NAME"
}
migrate() { # FILE: as ss_migrate applies it
    as_role sesshu_audit psql -X -q -v ON_ERROR_STOP=1 -1 -c "SET client_min_messages = warning" \
        -f "$1" -c "INSERT INTO audit.schema_migrations (version) VALUES ('$(basename "$1")')" >/dev/null
}
as_role sesshu_audit psql -X -q -c "CREATE TABLE audit.schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
later=()
for f in "$root"/services/audit/migrations/0*.sql; do
    if [[ $(basename "$f") > 011_no_prev_hash.sql ]]; then later+=("$f"); else migrate "$f"; fi
done
(( ${#later[@]} > 0 )) || { echo "bench: no migration after 011 to compare" >&2; exit 1; }
# 011's append, kept under another name (its body names only audit's objects).
as_role sesshu_audit psql -X -q -v ON_ERROR_STOP=1 -At -c \
    "SELECT replace(pg_get_functiondef('audit.append(text,text[],text[],text[],text[],text[],text[],text[],text[],text[],text[],text[],text[],text[],text[],text[],text[],text[],text[],integer[],bigint[])'::regprocedure), 'FUNCTION audit.append(', 'FUNCTION audit.append_011(')" \
    >"$work/append_011.sql"
printf ';\nGRANT EXECUTE ON FUNCTION audit.append_011 TO sesshu_audit_writer;\n' >>"$work/append_011.sql"
as_role sesshu_audit psql -X -q -v ON_ERROR_STOP=1 -f "$work/append_011.sql" >/dev/null
for f in "${later[@]}"; do migrate "$f"; done
echo "== migrations to 011, 011's append kept as audit.append_011, then: $(for f in "${later[@]}"; do basename "$f"; done | tr '\n' ' ')"

# rows(FN, STREAM, N, FIRST): a call of FN with N generated rows.
rows() {
    local n=$3
    echo "SELECT audit.$1('$2', array_agg('req-' || g), array_fill('records'::text, ARRAY[$n]), array_fill('user'::text, ARRAY[$n]), array_agg(md5((g % 20)::text)::uuid::text), array_agg('staff' || g % 20 || '-131016'), array_fill('0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b'::text, ARRAY[$n]), array_fill('municipality'::text, ARRAY[$n]), array_fill('131016'::text, ARRAY[$n]), array_fill('user'::text, ARRAY[$n]), array_fill('POST'::text, ARRAY[$n]), array_fill('/api/v1/immunizations'::text, ARRAY[$n]), array_fill('/api/v1/immunizations'::text, ARRAY[$n]), array_fill('immunization'::text, ARRAY[$n]), array_agg(md5(g::text)::uuid::text), array_agg(md5('p' || g)::uuid::text), array_fill(NULL::text, ARRAY[$n]), array_fill('131016'::text, ARRAY[$n]), array_agg('10.' || g % 200 || '.1.1'), array_fill(201, ARRAY[$n]), array_agg((800 + g % 5000)::bigint)) FROM generate_series($4, $4 + $n - 1) g;"
}
t0=$(date +%s.%N)
for (( r = 0; r < nl; r += 500 )); do rows append bench-fill 500 "$r"; done | psql_super >/dev/null
psql_super -c "VACUUM ANALYZE audit.access_log" >/dev/null
awk -v a="$t0" -v b="$(date +%s.%N)" -v n="$nl" 'BEGIN{printf "== the log filled: %d rows in %.1f s\n", n, b - a}'

# The pgbench scripts: a random first row id a call.
cat >"$work/sel.sql" <<'SQL'
SELECT 1;
SQL
cat >"$work/ins.sql" <<'SQL'
\set r random(1, 1000000000)
INSERT INTO audit.access_log (chain_pos, ts, request_id, service, actor_kind, actor_id, actor_login, org_id, org_type, muni_code, role, method, route, path, res_type, res_id, person_id, subject_org_id, subject_muni, status, client_ip, duration_us, hash, stream, stream_pos, xid) VALUES (nextval('audit.access_log_pos'), clock_timestamp(), 'req-' || :r, 'records', 'user', md5((:r % 20)::text)::uuid::text, 'staff' || :r % 20 || '-131016', '0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b', 'municipality', '131016', 'user', 'POST', '/api/v1/immunizations', '/api/v1/immunizations', 'immunization', md5(:r::text)::uuid::text, md5('p' || :r)::uuid::text, NULL, '131016', 201, '10.' || :r % 200 || '.1.1', 800 + :r % 5000, sha256('x'), 'bench-insert', :r, pg_current_xact_id());
SQL
variants=(sel ins)
for n in 1 5 100; do
    for fn in append_011 append; do
        { echo '\set r random(1, 1000000000)'; rows "$fn" "bench-$fn-$n" "$n" ":r"; } >"$work/$fn-$n.sql"
        variants+=("$fn-$n")
    done
done
chmod 644 "$work"/*.sql

# run VARIANT ROUND: "latency_ms cpu_ms" of one pgbench run.
run() {
    local v=$1 user=sesshu_records app="bench-$1-$2" pid='' last=0 bg st
    [[ $v == ins ]] && user=sesshu_audit # the owner: it may set the chain fields
    PGAPPNAME=$app PGOPTIONS='-c synchronous_commit=off' as_role "$user" pgbench -n -M prepared -c1 \
        -T"$secs" -f "$work/$v.sql" >"$work/$app.out" 2>&1 &
    bg=$!
    for _ in $(seq 100); do
        pid=$(psql_super -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$app'")
        [[ -n $pid ]] && break
        sleep 0.05
    done
    while kill -0 "$bg" 2>/dev/null; do
        if read -r -a st <"/proc/$pid/stat" 2>/dev/null; then last=$((st[13] + st[14])); fi
        sleep 0.05
    done
    wait "$bg" || { cat "$work/$app.out" >&2; return 1; }
    awk -v t="$last" -v hz="$(getconf CLK_TCK)" '/latency average/ {l = $4} /^number of transactions actually processed/ {n = $NF}
        END {printf "%.4f %.4f\n", l, (n > 0 ? t * 1000 / hz / n : 0)}' "$work/$app.out"
}
echo "== pgbench -M prepared -c1 -T$secs, $rounds rounds, variants alternating (writer role; synchronous_commit off)"
for (( k = 1; k <= rounds; k++ )); do
    for v in "${variants[@]}"; do
        echo "$v $(run "$v" "$k")" >>"$work/results.txt"
    done
done
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }
med() { awk -v v="$1" -v c="$2" '$1 == v {print $c}' "$work/results.txt" | median; }
printf '   %-16s %12s %14s\n' variant "latency ms" "backend CPU ms"
for v in "${variants[@]}"; do printf '   %-16s %12.3f %14.3f\n' "$v" "$(med "$v" 2)" "$(med "$v" 3)"; done
for n in 1 5 100; do
    awk -v n="$n" -v l0="$(med "append_011-$n" 2)" -v l1="$(med "append-$n" 2)" \
        -v c0="$(med "append_011-$n" 3)" -v c1="$(med "append-$n" 3)" -v s="$(med sel 2)" -v sc="$(med sel 3)" \
        'BEGIN {printf "   %3d row(s): new/011 latency %.2f, CPU %.2f; above SELECT 1: latency %.2f, CPU %.2f\n",
                n, l1 / l0, c1 / c0, (l1 - s) / (l0 - s), (c1 - sc) / (c0 - sc)}'
done

[[ ${SESSHU_BENCH_IR:-0} == 1 ]] || exit 0
command -v valgrind >/dev/null || { echo "bench: valgrind missing (apt-get install valgrind)" >&2; exit 1; }
# --- instructions a call: a single-user backend on a copy of the cluster ---------------------
calls=${SESSHU_BENCH_IR_CALLS:-25}
ss_pg_stop >/dev/null
cp -a "$SS_PGDATA" "$work/single"
sed -i 's/^include_if_exists.*//' "$work/single/postgresql.conf" # no port or socket: single-user
mkdir -p "$work/cg"
ss_is_root && chown -R "$(ss_pg_user):" "$work/single" "$work/cg"
ir() { # FN N CALLS: instructions of a backend that runs CALLS calls
    local c
    for (( c = 0; c < $3; c++ )); do
        if (( $2 == 1 )); then
            echo "SELECT audit.$1('bench-ir-$1', ARRAY['ir-$c'], '{records}', '{user}', '{6a1d3c1e-5b0e-4b8e-9d7a-1c2b3c4d5e6f}', '{staff1-131016}', '{0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b}', '{municipality}', '{131016}', '{user}', '{POST}', '{/api/v1/immunizations}', '{/api/v1/immunizations}', '{immunization}', '{11111111-2222-3333-4444-555555555555}', '{aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee}', '{NULL}', '{131016}', '{10.1.2.1}', '{201}', '{1234}');"
        else
            rows "$1" "bench-ir-$1-$2" "$2" "$(( c * $2 ))" | tr -d '\n'
            echo
        fi
    done >"$work/ir.sql"
    chmod 644 "$work/ir.sql"
    ss_as_pg valgrind --tool=callgrind --callgrind-out-file="$work/cg/out" "$SS_PGBIN/postgres" --single \
        -F -c synchronous_commit=off -D "$work/single" "$SS_DB_NAME" <"$work/ir.sql" >"$work/ir.out" 2>/dev/null
    ! grep -q ERROR "$work/ir.out" || { grep -m1 ERROR "$work/ir.out" >&2; return 1; }
    awk '/^summary:/ {print $2}' "$work/cg/out"
    rm -f "$work/cg/out"
}
echo "== instructions a call (valgrind, single-user backend; ($((5 * calls)) calls - $calls calls) / $((4 * calls)))"
for n in 1 5; do
    for fn in append_011 append; do
        a=$(ir "$fn" "$n" "$calls")
        b=$(ir "$fn" "$n" $(( 5 * calls )))
        echo "$fn $n $(( (b - a) / (4 * calls) ))" >>"$work/ir.txt"
        printf '   %-12s %3d row(s): %10d instructions a call\n' "$fn" "$n" "$(( (b - a) / (4 * calls) ))"
    done
    awk -v n="$n" '$2 == n && $1 == "append_011" {a = $3} $2 == n && $1 == "append" {b = $3}
        END {printf "   %3d row(s): new/011 %.2f\n", n, b / a}' "$work/ir.txt"
done
