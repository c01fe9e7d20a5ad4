#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/audit-proof.sh - what an access-log proof costs (issue 14): inclusion and consistency
# proofs through the gateway (authenticated, logged), read from the stored subtree hashes
# (migration 009), against the reference in the same run: the proof recomputed from every row as
# the service did before (bench/peer/proofref.c, in process, no HTTP), at each log size given.
# On a throwaway stack of its own (scripts/lib.sh's test profile on ports offset by
# SESSHU_BENCH_PORT_OFFSET, default 2600, the release build). The log is grown
# as the database superuser through audit.append (each row chained in its writer stream). Prints per size: the
# checkpoint that stores the new blocks (the incremental fill), proof p50/p99 (wrk -t1 -c1), the
# reference's median and p90, and the ratio. Loopback only; everything it starts it stops by PID.
# Usage: bench/audit-proof.sh [seconds=5] [sizes="100000 1000000"] [reference iterations=5]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
. "$root/bench/lib.sh"
secs=${1:-5}
sizes=${2:-100000 1000000}
iters=${3:-5}
command -v wrk >/dev/null || { echo "bench: wrk missing (apt-get install wrk)" >&2; exit 1; }
[[ -d $root/tests/api/node_modules ]] || { echo "bench: run scripts/test.sh once (npm packages)" >&2; exit 1; }

SS_REPO=$root # read by scripts/lib.sh
export SS_REPO
# shellcheck source=../scripts/lib.sh
. "$root/scripts/lib.sh"
cleanup() {
    ss_stop_all >/dev/null 2>&1 || true
    rm -rf "$work"
}
bench_stack proof 2600
ss_gw_render >/dev/null
ss_spawn gateway "$SS_LOGDIR/gateway-error.log" "$(command -v nginx || echo /usr/sbin/nginx)" -p "$SS_GW_DIR/" \
    -e "$SS_LOGDIR/gateway-error.log" -c "$SS_GW_DIR/nginx.conf" -g 'daemon off;'
base=http://127.0.0.1:$SS_GW_PORT
for _ in $(seq 100); do curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break; sleep 0.1; done
psql_super() { ss_psql_super -d "$SS_DB_NAME" "$@"; }
audit_pw=$(cat "$SESSHU_AUDIT_DB_PASSWORD_FILE")
# shellcheck disable=SC2153 # SESSHU_DB_* come from the sourced env file
conninfo="host=$SESSHU_DB_HOST port=$SESSHU_DB_PORT dbname=$SESSHU_DB_NAME user=sesshu_audit password=$audit_pw"
token=$(cd "$root/tests/api" && SESSHU_TEST_BASE_URL=$base SESSHU_TEST_ENV_FILE=$SS_ENV_FILE \
    SESSHU_TEST_ADMIN_PASSWORD=$(cat "$SS_SECRETS/admin-password") node "$root/bench/audit-proof-setup.mjs")

cat >"$work/inclusion.lua" <<'LUA'
local pos = {}
for line in io.lines(os.getenv("POS_FILE")) do pos[#pos + 1] = line end
local size, n = os.getenv("TREE_SIZE"), 0
request = function()
    n = n + 1
    return wrk.format("GET", "/api/v1/access-logs/proofs/inclusion?chain_pos=" .. pos[(n % #pos) + 1] .. "&tree_size=" .. size)
end
LUA
cat >"$work/consistency.lua" <<'LUA'
local size, n = tonumber(os.getenv("TREE_SIZE")), 0
request = function()
    n = n + 1
    local first = ((n * 7919) % (size - 1)) + 1
    return wrk.format("GET", "/api/v1/access-logs/proofs/consistency?first=" .. first .. "&second=" .. size)
end
LUA

rows() { psql_super -c "SELECT count(*) FROM audit.access_log"; }
for want in $sizes; do
    # Grow the log to `want` rows, 100,000 a transaction, through the writers' own batch call
    # (audit.append, 1,000 rows a call on 8 streams: a stream's head is updated once a batch; a
    # plain INSERT would update it once a row).
    have=$(rows)
    t0=$(date +%s.%N)
    while (( have < want )); do
        add=$(( want - have < 100000 ? want - have : 100000 ))
        psql_super -c "SELECT sum(audit.append('bench/' || (b % 8), r, s, k, n, n, n, n, n, n, m, p, q, n, n, n, n, n, n, st, d)) FROM (SELECT g / 1000 AS b, array_agg('bench-' || g) r, array_agg('bench'::text) s, array_agg('anonymous'::text) k, array_agg(NULL::text) n, array_agg('GET'::text) m, array_agg('/b'::text) p, array_agg('/b/' || g) q, array_agg(200) st, array_agg(0::bigint) d FROM generate_series(1, $add) g GROUP BY g / 1000) x" >/dev/null
        have=$(( have + add ))
    done
    psql_super -c "ANALYZE audit.access_log"
    t1=$(date +%s.%N)
    sleep 1.1
    cp=$(curl -fsS -m 900 "$base/api/v1/access-logs/checkpoints/latest")
    t2=$(date +%s.%N)
    size=$(jq -r .tree_size <<<"$cp")
    echo "== $size leaves (log grown in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s)"
    awk -v a="$t1" -v b="$t2" 'BEGIN{printf "   checkpoint storing the new blocks: %.2f s\n", b-a-1.1}'
    printf '   stored subtree hashes: %s\n' "$(psql_super -c "SELECT count(*) FROM audit.subtrees")"
    psql_super -c "COPY (SELECT chain_pos FROM audit.access_log WHERE chain_pos <= $size ORDER BY random() LIMIT 2000) TO STDOUT" >"$work/pos.txt"
    # Warm-up, not reported: every pooled connection prepares each statement and plans it
    # afresh for its first five runs before PostgreSQL keeps a generic plan.
    POS_FILE=$work/pos.txt TREE_SIZE=$size wrk -t1 -c4 -d3s -s "$work/inclusion.lua" \
        -H "Authorization: Bearer $token" "$base" >/dev/null
    TREE_SIZE=$size wrk -t1 -c4 -d3s -s "$work/consistency.lua" -H "Authorization: Bearer $token" "$base" >/dev/null
    POS_FILE=$work/pos.txt TREE_SIZE=$size bench_wrk "inclusion_$size" -t1 -c1 -d"${secs}s" -s "$work/inclusion.lua" \
        -H "Authorization: Bearer $token" "$base"
    TREE_SIZE=$size bench_wrk "consistency_$size" -t1 -c1 -d"${secs}s" -s "$work/consistency.lua" \
        -H "Authorization: Bearer $token" "$base"
    p50=$(bench_ms "$(awk '$1=="50%" {print $2}' "$work/inclusion_$size.txt")")
    read -r ref50 ref90 < <("$SS_BIN_DIR/bench/peer/sesshu-bench-proofref" "$conninfo" "$size" "$iters")
    printf '%-34s %10s   p50 %8s ms   p90 %8s ms\n' "reference_full_recompute_$size" "($iters runs)" "$ref50" "$ref90"
    awk -v a="$ref50" -v b="$p50" 'BEGIN{printf "ratio reference p50 / inclusion p50 = %.0f\n", a/b}'
done
