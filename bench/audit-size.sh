#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/audit-size.sh - what an access-log row costs (issue 14 §3, issue 15 §3): on disk, split
# into the heap and each index, to append, and to query. On a throwaway stack of its own
# (scripts/lib.sh's test profile on ports offset by SESSHU_BENCH_PORT_OFFSET, default 2800, the
# normal build, rate limits lifted). The log is filled the way it grows in service: L rows
# (default 1,000,000) through audit.append in 500-row batches from two loader streams, with
# every index in place (bench/log-rows.sql: the rows of bench/scale.sh, a municipality's staff
# reading and registering persons, one person in ten in the bench's municipality, 2% refused).
# Then, after ANALYZE:
#  1. bytes per row: the heap (with TOAST) and each index of the parent, summed over the month
#     partitions;
#  2. the plan and time of every query statement of the access-log API (services/audit/sql/
#     logs.sql, about_me.sql: the text the service prepares, run six times so that the plan
#     shown is the one a pooled connection keeps) and of a verify of the last 100,000 rows;
#  3. the access-log query through the gateway (wrk -t1 -c1, authenticated and logged): no
#     filter, person, resource, actor by id and by login id, organisation, failures, and for a
#     municipality's own staff no filter and person - p50 and p99;
#  4. the cost of an append (pgbench, one client, as the superuser): batches of 500 rows and of
#     one row, each call its own transaction, ms per call and us per row.
# Prints the figures; SESSHU_BENCH_OUT=DIR also keeps the plans and wrk outputs there.
# Loopback only; everything it starts it stops by PID, and its directory is removed at the end.
# Usage: bench/audit-size.sh [logrows=1000000] [seconds=5]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
. "$root/bench/lib.sh"
nl=${1:-1000000}
secs=${2:-5}
[[ $nl =~ ^[0-9]+$ && $secs =~ ^[0-9]+$ ]] || { echo "bench: counts must be whole numbers" >&2; exit 1; }
(( nl >= 50000 )) || { echo "bench: need at least 50,000 log rows" >&2; exit 1; }
np=$(( nl / 10 ))
command -v wrk >/dev/null || { echo "bench: wrk missing (apt-get install wrk)" >&2; exit 1; }
[[ -d $root/tests/api/node_modules ]] || { echo "bench: run scripts/test.sh once (npm packages)" >&2; exit 1; }

SS_REPO=$root # read by scripts/lib.sh
export SS_REPO
# shellcheck source=../scripts/lib.sh
. "$root/scripts/lib.sh"
loaders=()
cleanup() {
    local p
    for p in "${loaders[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${loaders[@]}"; do wait "$p" 2>/dev/null || true; done
    ss_stop_all >/dev/null 2>&1 || true
    if [[ -n ${SESSHU_BENCH_OUT:-} ]]; then
        mkdir -p "$SESSHU_BENCH_OUT"
        cp "$work"/*.txt "$SESSHU_BENCH_OUT/" 2>/dev/null || true
    fi
    rm -rf "$work"
}
bench_stack audit-size 2800
ss_gw_start >/dev/null 2>&1
base=http://127.0.0.1:$SS_GW_PORT
for _ in $(seq 100); do curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break; sleep 0.1; done
psql_super() { ss_psql_super -d "$SS_DB_NAME" "$@"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }
node_setup() {
    (cd "$root/tests/api" && SESSHU_TEST_BASE_URL=$base SESSHU_TEST_ENV_FILE=$SS_ENV_FILE \
        SESSHU_TEST_ADMIN_PASSWORD=$(cat "$SS_SECRETS/admin-password") node "$root/bench/$1" "${@:2}")
}
setup=$(node_setup scale-setup.mjs org)
muni=$(jq -r .muni <<<"$setup")
muni_org=$(jq -r .org <<<"$setup")
[[ $muni =~ ^[0-9]{6}$ ]] || { echo "bench: no municipality code from the setup" >&2; exit 1; }

# --- the log ------------------------------------------------------------------------------------
psql_super -v muni="$muni" -f "$root/bench/log-rows.sql" >/dev/null
psql_super -v muni="$muni" -v np="$np" <<'SQL'
INSERT INTO public.bench_people (g, id, muni)
SELECT g, gen_random_uuid(), CASE WHEN g % 10 = 0 OR m.code IS NULL THEN :'muni' ELSE m.code END
  FROM generate_series(0, :np::bigint - 1) g
  LEFT JOIN public.bench_munis m ON m.i = g % greatest((SELECT count(*) FROM public.bench_munis), 1);
SQL
echo "== $nl log rows through audit.append (500-row batches, two loader streams), every index in place"
t0=$(now)
for s in 0 1; do
    for (( r = s * 500; r < nl; r += 1000 )); do
        echo "SELECT public.bench_log('bench-loader/$s', $r, $(( nl - r < 500 ? nl - r : 500 )), 0, $np);"
    done | psql_super >/dev/null &
    loaders+=($!)
done
for p in "${loaders[@]}"; do wait "$p"; done
loaders=()
t_load=$(since "$t0")
psql_super -c "VACUUM ANALYZE audit.access_log" >/dev/null
awk -v t="$t_load" -v n="$nl" 'BEGIN{printf "   load: %.1f s, %.1f us a row (two streams at once)\n", t, t * 1e6 / n}'

# --- 1. bytes per row ---------------------------------------------------------------------------
echo "== bytes on disk per log row (heap with TOAST; each index over every partition)"
psql_super -F ' ' <<'SQL' | awk '{printf "   %-28s %14s bytes %9.1f per row\n", $1, $2, $3}' | tee "$work/sizes.txt"
WITH parts AS (SELECT relid FROM pg_partition_tree('audit.access_log') WHERE isleaf),
     n AS (SELECT count(*)::numeric AS rows FROM audit.access_log),
     rel AS (
        SELECT 'heap' AS name, sum(pg_table_size(relid)) AS bytes, 0 AS o FROM parts
        UNION ALL
        SELECT i.indexrelid::regclass::text, (SELECT sum(pg_relation_size(t.relid))
                                                FROM pg_partition_tree(i.indexrelid) t), 1
          FROM pg_index i WHERE i.indrelid = 'audit.access_log'::regclass)
SELECT replace(name, 'audit.', ''), bytes, round(bytes / greatest(n.rows, 1), 1)
  FROM rel, n
 ORDER BY o, bytes DESC;
SELECT 'indexes', sum(pg_indexes_size(relid)), round(sum(pg_indexes_size(relid)) / max(n.rows), 1)
  FROM pg_partition_tree('audit.access_log') p, (SELECT count(*)::numeric AS rows FROM audit.access_log) n
 WHERE p.isleaf;
SELECT 'total', sum(pg_total_relation_size(relid)), round(sum(pg_total_relation_size(relid)) / max(n.rows), 1)
  FROM pg_partition_tree('audit.access_log') p, (SELECT count(*)::numeric AS rows FROM audit.access_log) n
 WHERE p.isleaf;
SQL

# --- samples ------------------------------------------------------------------------------------
# 200 persons of the bench's municipality (person and resource filters), the actors and logins
# of their rows, and organisations of the log.
psql_super -c "COPY (SELECT b.id FROM public.bench_people b WHERE b.muni = '$muni' ORDER BY b.g LIMIT 200) TO STDOUT" >"$work/persons.list"
psql_super -c "COPY (SELECT DISTINCT md5(muni || k)::uuid FROM (SELECT DISTINCT muni FROM public.bench_people ORDER BY 1 LIMIT 10) m, generate_series(0, 19) k) TO STDOUT" >"$work/actors.list"
psql_super -c "COPY (SELECT DISTINCT 'staff' || k || '-' || muni FROM (SELECT DISTINCT muni FROM public.bench_people ORDER BY 1 LIMIT 10) m, generate_series(0, 19) k) TO STDOUT" >"$work/logins.list"
psql_super -c "COPY (SELECT DISTINCT md5('org' || muni)::uuid FROM public.bench_people) TO STDOUT" >"$work/orgs.list"
person=$(sed -n 7p "$work/persons.list")
actor=$(sed -n 7p "$work/actors.list")
login=$(sed -n 7p "$work/logins.list")
org=$(psql_super -c "SELECT md5('org' || '$muni')::uuid")

# --- 2. plans -----------------------------------------------------------------------------------
# stmt FILE NAME: a statement of the service's SQL files, as the service prepares it.
stmt() { awk -v n="$2" '/^-- name: / {on = ($3 == n); next} on && !/^--/' "$root/services/audit/sql/$1" | sed '/^$/d; s/;$//'; }
# plan LABEL FILE NAME ARGS: six runs of the prepared statement, the last one explained (the
# plan a pooled connection keeps); partitions' index names shown as their parent's.
plan() {
    local q
    q=$(stmt "$2" "$3")
    {
        echo "PREPARE q AS $q;"
        echo '\o /dev/null'
        for _ in 1 2 3 4 5; do echo "EXECUTE q($4);"; done
        echo '\o'
        echo "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE q($4);"
    } | psql_super -f - | awk 'NR == FNR {m[$1] = $2; next}
        {o = ""; s = $0; while (match(s, /[a-z0-9_]+/)) { w = substr(s, RSTART, RLENGTH); o = o substr(s, 1, RSTART - 1) ((w in m) ? m[w] : w); s = substr(s, RSTART + RLENGTH) } print o s}' \
        "$work/idxmap" - >"$work/plan.tmp"
    { echo "## $1"; cat "$work/plan.tmp"; echo; } >>"$work/plans.txt"
    printf '   %-26s %10s ms   %s\n' "$1" "$(awk '/Execution Time/ {print $3}' "$work/plan.tmp")" \
        "$(grep -oE '(using|Index Scan on) [a-z0-9_]*' "$work/plan.tmp" | awk '{print $NF}' | sort -u | tr '\n' ' ')"
}
psql_super -F ' ' -c "SELECT c.relname, p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE c.relkind = 'i' AND p.relname LIKE 'access_log%'" >"$work/idxmap"
echo "== query statements: execution time of the kept plan, and the indexes it reads"
n13() { echo "$1, $2, $3, $4, $5, $6, $7, $8, $9, ${10}, ${11}, 9223372036854775807, 50"; }
plan "none" logs.sql aud_log_page "$(n13 NULL NULL NULL NULL NULL NULL NULL NULL 0 NULL NULL)"
plan "person" logs.sql aud_log_page_person "$(n13 NULL NULL NULL NULL NULL NULL "'$person'" NULL 0 NULL NULL)"
plan "resource" logs.sql aud_log_page_resource "$(n13 NULL NULL NULL NULL "'person'" "'$person'" NULL NULL 0 NULL NULL)"
plan "actor (id)" logs.sql aud_log_page_actor "$(n13 NULL NULL "'$actor'" NULL NULL NULL NULL NULL 0 NULL NULL)"
plan "actor (login)" logs.sql aud_log_page_actor "$(n13 NULL NULL "'$login'" NULL NULL NULL NULL NULL 0 NULL NULL)"
plan "organisation" logs.sql aud_log_page_org "$(n13 NULL NULL NULL "'$org'" NULL NULL NULL NULL 0 NULL NULL)"
plan "failures" logs.sql aud_log_page_failures "$(n13 NULL NULL NULL NULL NULL NULL NULL NULL 2 NULL NULL)"
plan "status=403 (no lead)" logs.sql aud_log_page "$(n13 NULL NULL NULL NULL NULL NULL NULL 403 0 NULL NULL)"
plan "municipality: none" logs.sql aud_log_page "$(n13 NULL NULL NULL NULL NULL NULL NULL NULL 0 "'$muni'" "'$muni_org'")"
plan "municipality: person" logs.sql aud_log_page_person "$(n13 NULL NULL NULL NULL NULL NULL "'$person'" NULL 0 "'$muni'" "'$muni_org'")"
plan "about-me" about_me.sql aud_about_me_page "ARRAY['$person'], 'nobody', 9223372036854775807, 50"
t0=$(now)
v=$(psql_super -c "SELECT coalesce(reason, 'ok') FROM audit.verify_chain(greatest((SELECT max(chain_pos) FROM audit.access_log) - 100000, 1), 200000)")
printf '   %-26s %10s ms   %s\n' "verify, last 100,000 rows" "$(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.1f", (b-a)*1000}')" "$v"
[[ $v == ok ]] || { echo "bench: the loaded access log does not verify" >&2; exit 1; }

# --- 3. through the gateway ---------------------------------------------------------------------
cat >"$work/paths.lua" <<'LUA'
local paths = {}
for line in io.lines(os.getenv("PATHS_FILE")) do paths[#paths + 1] = line end
local n = 0
request = function()
    n = n + 1
    return wrk.format("GET", paths[(n % #paths) + 1])
end
LUA
national=$(node_setup audit-proof-setup.mjs)
mtoken=$(node_setup scale-setup.mjs login "$(jq -r .user <<<"$setup")" "$(jq -r .password <<<"$setup")" | jq -r .token)
q=/api/v1/access-logs
echo "$q?limit=50" >"$work/none.list"
sed "s|^|$q?limit=50\&person_id=|" "$work/persons.list" >"$work/person.paths"
sed "s|^|$q?limit=50\&resource_type=person\&resource_id=|" "$work/persons.list" >"$work/resource.paths"
sed "s|^|$q?limit=50\&actor=|" "$work/actors.list" >"$work/actor.paths"
sed "s|^|$q?limit=50\&actor=|" "$work/logins.list" >"$work/login.paths"
sed "s|^|$q?limit=50\&organization_id=|" "$work/orgs.list" | head -200 >"$work/org.paths"
echo "$q?limit=50&outcome=failure" >"$work/failures.paths"
cp "$work/none.list" "$work/none.paths"
cp "$work/none.list" "$work/mnone.paths"
cp "$work/person.paths" "$work/mperson.paths"
echo "== the access-log query through the gateway (wrk -t1 -c1 -d${secs}s; 50 rows a page)"
for k in none person resource actor login org failures mnone mperson; do
    tok=$national
    [[ $k != m* ]] || tok=$mtoken
    # Warm-up, not reported: each pooled connection prepares the statement and keeps a plan.
    PATHS_FILE=$work/$k.paths wrk -t1 -c4 -d2s -s "$work/paths.lua" -H "Authorization: Bearer $tok" "$base" >/dev/null
    PATHS_FILE=$work/$k.paths bench_wrk "logs_$k" -t1 -c1 -d"${secs}s" --timeout 30s -s "$work/paths.lua" \
        -H "Authorization: Bearer $tok" "$base"
done

# --- 4. the cost of an append ---------------------------------------------------------------------
echo "== audit.append (pgbench -c1 -T$secs, each call its own transaction; the generator of bench/log-rows.sql included)"
for n in 500 1; do
    printf '\\set r random(1, 1000000000)\nSELECT public.bench_log('"'"'bench-append/%s'"'"', :r, %s, 0, %s);\n' "$n" "$n" "$np" \
        >"$work/append$n.sql"
    chmod 644 "$work/append$n.sql"
    ss_as_pg "$SS_PGBIN/pgbench" -n -c1 -T"$secs" -h "$SS_PGSOCK" -p "$SS_PG_PORT" -U "$(ss_pg_user)" \
        -f "$work/append$n.sql" "$SS_DB_NAME" >"$work/append$n.txt" 2>&1
    awk -v n="$n" '/latency average/ {printf "   batch of %3d rows: %8.3f ms a call, %8.1f us a row\n", n, $4, $4 * 1000 / n}' "$work/append$n.txt"
done

# --- 5. an upgrade (SESSHU_BENCH_UPGRADE="MIGRATION-FILE ..."): the migrations applied to the
# loaded log as the audit service applies them (its role, one transaction each); then the
# inclusion proof asked before is asked again and must be the same bytes, and verify (the walk,
# the stored subtrees recomputed from the rows, the last checkpoint) must pass.
[[ -n ${SESSHU_BENCH_UPGRADE:-} ]] || exit 0
echo "== upgrade of the loaded log: $SESSHU_BENCH_UPGRADE"
get() { curl -fsS -m 900 -H "Authorization: Bearer $national" "$base$1"; }
size=$(get /api/v1/access-logs/checkpoints/latest | jq -r .tree_size)
pos=$(psql_super -c "SELECT chain_pos FROM audit.access_log ORDER BY chain_pos OFFSET $(( size / 2 )) LIMIT 1")
proof=$(get "/api/v1/access-logs/proofs/inclusion?chain_pos=$pos&tree_size=$size")
audit_pw=$(cat "$SESSHU_AUDIT_DB_PASSWORD_FILE")
for f in $SESSHU_BENCH_UPGRADE; do
    t0=$(now)
    # shellcheck disable=SC2153 # SESSHU_DB_* come from the sourced env file
    PGPASSWORD=$audit_pw "$SS_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -1 \
        "host=$SESSHU_DB_HOST port=$SESSHU_DB_PORT dbname=$SESSHU_DB_NAME user=sesshu_audit" \
        -f "$f" -c "INSERT INTO audit.schema_migrations (version) VALUES ('$(basename "$f")')"
    printf '   %s applied in %s s\n' "$(basename "$f")" "$(since "$t0")"
done
[[ $(get "/api/v1/access-logs/proofs/inclusion?chain_pos=$pos&tree_size=$size") == "$proof" ]] ||
    { echo "bench: the inclusion proof changed with the upgrade" >&2; exit 1; }
echo "   inclusion proof of chain_pos $pos in the tree of $size: the same bytes"
t0=$(now)
v=$(get "/api/v1/access-logs/verify" | jq -c '{ok, checked, complete, first_broken, checkpoint, subtrees: .subtrees.ok}')
printf '   verify (%s s): %s\n' "$(since "$t0")" "$v"
[[ $(jq -r .ok <<<"$v") == true ]] || { echo "bench: the upgraded log does not verify" >&2; exit 1; }
