#!/usr/bin/env bash
# bench/master.sh - the master service (H-8) benchmark:
#  (a) import of 100,000 institution rows (CSV, dry_run=false, insert-only) through the gateway and
#      the service (upload, CSV parse, check digits, COPY into the stage, diff, set-wise insert,
#      access log) in rows/s, against `psql \copy` of the same rows in the same run into a table
#      shaped like master.institutions (same constraints and indexes); aim ratio >= 0.5;
#  (b) reference reads per second through the gateway (GET a page of municipalities as of today)
#      with and without If-None-Match (304 answers).
# Starts its own stack (scripts/lib.sh, test profile, port offset SESSHU_BENCH_PORT_OFFSET=1000,
# the normal build/ binaries), a gateway with the rate limits lifted, and stops all of it by PID.
# Loopback only. Usage: bench/master.sh [seconds=10] [connections=32] [rows=100000]
set -euo pipefail
SS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$SS_REPO/bench/lib.sh"
secs=${1:-10}
conns=${2:-32}
rows=${3:-100000}
for c in wrk jq psql curl nginx awk; do command -v "$c" >/dev/null || { echo "bench: $c missing" >&2; exit 1; }; done
[[ -x $SS_REPO/build/services/master/sesshu-master ]] || { echo "bench: build first (cmake --build build)" >&2; exit 1; }

# shellcheck source=/dev/null
. "$SS_REPO/scripts/lib.sh"
export SESSHU_TEST_PORT_OFFSET=${SESSHU_BENCH_PORT_OFFSET:-1000}
export SESSHU_ASAN_BUILD_DIR=$SS_REPO/build
ss_profile test
work=$(mktemp -d /tmp/sesshu-bench-master.XXXXXX)
chmod 711 "$work"
ss_init "$work/var"
cleanup() {
    ss_stop_all || true
    rm -rf "$work"
}
trap cleanup EXIT
for p in "$SS_PG_PORT" "$SS_GW_PORT" "$((SS_PORT_BASE + 5))"; do
    if ss_port_busy "$p"; then echo "bench: port $p is in use (another stack on offset $SESSHU_TEST_PORT_OFFSET?)" >&2; exit 1; fi
done

ss_log "starting a stack on offset $SESSHU_TEST_PORT_OFFSET"
ss_prepare_var
ss_make_secrets
ss_write_env "http://127.0.0.1:$SS_GW_PORT"
# shellcheck source=/dev/null
. "$SS_ENV_FILE"
ss_pg_init >/dev/null
ss_pg_start
ss_pg_roles >/dev/null
ss_smtp_start
ss_services_start 60
# The gateway with every rate limit lifted (benchmarks measure the service, not the throttle).
SESSHU_GW_API_RATE=1000000r/s SESSHU_GW_API_BURST=1000000 SESSHU_GW_AUTH_RATE=1000000r/s \
    SESSHU_GW_AUTH_BURST=1000000 ss_gw_start
base=http://127.0.0.1:$SS_GW_PORT

# An operator organisation and an activated admin (masters.import on the technical masters).
api() { curl -fsS -H 'Content-Type: application/json' "$@"; }
admin_pw=$(cat "$SS_SECRETS/admin-password")
ck=$(api -d "{\"user_id\":\"chuokai-admin\",\"password\":\"$admin_pw\"}" "$base/api/v1/auth/login" | jq -r .access_token)
made=$(api -H "Authorization: Bearer $ck" "$base/api/v1/organizations" -d '{"type":"operator","code":"OPS-BENCH","name":"ベンチ運用","name_kana":"ベンチウンヨウ","admin":{"user_id":"bench-ops","name":"ベンチ 太郎","name_kana":"ベンチタロウ","email":"bench-ops@example.org"}}')
temp=$(jq -r .temporary_password <<<"$made")
t0=$(api -d "{\"user_id\":\"bench-ops\",\"password\":\"$temp\"}" "$base/api/v1/auth/login" | jq -r .access_token)
newpw="Bench-$(ss_rand 16)-9z"
token=$(api -H "Authorization: Bearer $t0" -d "{\"current_password\":\"$temp\",\"new_password\":\"$newpw\"}" "$base/api/v1/auth/password" | jq -r .access_token)
[[ -n $token && $token != null ]] || { echo "bench: no operator session" >&2; exit 1; }

# (a) 100,000 institutions: 13 + 医科 1 + a 6-digit serial + Luhn.
csv=$work/institutions.csv
awk -v n="$rows" 'BEGIN {
    print "code,name,name_kana,kind,prefecture_code,address,valid_from"
    for (i = 0; i < n; i++) {
        s = sprintf("131%06d", i); sum = 0
        for (k = 0; k < 9; k++) { d = substr(s, 9 - k, 1) + 0; if (k % 2 == 0) { d *= 2; if (d > 9) d -= 9 } sum += d }
        printf "%s%d,ベンチ医院%d,ベンチイイン,insurance,13,東京都千代田区千代田1-1-%d,2026-04-01\n", s, (10 - sum % 10) % 10, i, i
    }
}' >"$csv"
ss_log "import of $rows rows ($(du -h "$csv" | cut -f1)) through the gateway and the service"
t_start=$(date +%s.%N)
code=$(curl -sS -o "$work/import.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
    -H 'Content-Type: text/csv; charset=UTF-8' --data-binary "@$csv" \
    "$base/api/v1/masters/institutions/import?dry_run=false&strategy=insert-only&source=ONSHI")
t_svc=$(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.3f", b - a}')
[[ $code == 200 ]] || { echo "bench: import answered $code: $(head -c 400 "$work/import.json")" >&2; exit 1; }
added=$(jq .counts.added "$work/import.json")

export PGPASSWORD
PGPASSWORD=$(cat "$SESSHU_MASTER_DB_PASSWORD_FILE")
psql_m() { psql -X -qAt -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$SS_PG_PORT dbname=$SS_DB_NAME user=sesshu_master" "$@"; }
psql_m -c "CREATE TABLE master.bench_copy (LIKE master.institutions INCLUDING ALL)" \
    -c "ALTER TABLE master.bench_copy ALTER COLUMN source SET DEFAULT 'ONSHI'"
ss_log "psql \\copy of the same rows into a table shaped like master.institutions"
t_start=$(date +%s.%N)
psql_m -c "\\copy master.bench_copy (code, name, name_kana, kind, prefecture_code, address, valid_from) FROM '$csv' WITH (FORMAT csv, HEADER true)"
t_copy=$(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.3f", b - a}')
copied=$(psql_m -c "SELECT count(*) FROM master.bench_copy")
psql_m -c "DROP TABLE master.bench_copy"

# (b) reads through the gateway, with and without If-None-Match.
url="$base/api/v1/masters/municipalities?prefecture_code=13&limit=50"
etag=$(curl -sS -o /dev/null -D - -H "Authorization: Bearer $token" "$url" | awk -F': ' 'tolower($1)=="etag" {sub(/\r$/, "", $2); print $2}')
echo
echo "== (a) import of $rows institution rows"
awk -v r="$rows" -v a="$added" -v ts="$t_svc" -v tc="$t_copy" -v c="$copied" 'BEGIN {
    printf "service import (gateway, dry_run=false): %d added in %.2f s = %.0f rows/s\n", a, ts, r / ts
    printf "psql \\copy (same rows, same table shape): %d rows in %.2f s = %.0f rows/s\n", c, tc, r / tc
    printf "ratio service / \\copy: %.2f (aim >= 0.5)\n", tc / ts
}'
echo "== (b) reference reads through the gateway (wrk -t2 -c$conns -d${secs}s): $url"
bench_wrk "reads (200, full page)" -t2 -c"$conns" -d"${secs}s" -H "Authorization: Bearer $token" "$url"
bench_wrk "reads (304, If-None-Match)" -t2 -c"$conns" -d"${secs}s" -H "Authorization: Bearer $token" -H "If-None-Match: $etag" "$url"
