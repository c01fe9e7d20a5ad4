#!/usr/bin/env bash
# bench/lookup.sh - issue 5 §6 (a): a single-record lookup through the gateway, in one run on
# the same database and behind the same gateway configuration:
#   records  GET /api/v1/immunizations/:id of the records service (release build): bearer token
#            verified (cached), permission and ownership, the record as JSON, the access-log row
#            committed before the answer (group commit);
#   fastify  the same work in Node.js (bench/peer/fastify: Fastify + pg + jose), as a good Node
#            engineer writes it: the token verified once and cached until it expires, the same
#            SQL, the same access-log row group-committed (audit.append) before the answer;
#   bare     bench/peer/bare.c: ulfius + libpq, the record read by id, no authentication, no log
#            (the limit of a request that reads the database).
# Prints req/s, p50, p99 under load (wrk -t2 -cN) and at light load (wrk -t1 -c4), the ratios
# records/fastify (aim >= 2 at a lower p99) and records/bare (aim >= 0.6), and memory (VmRSS).
#
# Uses a running stack's database and token service: SESSHU_BENCH_ENV names its env.sh (default
# var/env.sh of scripts/up.sh). It starts its own records service (from the release build, on
# its own port), the two peers and a gateway on 127.0.0.1 with rate limits lifted, writes its
# benchmark rows (an API client of a municipality, one person, one record) with the services'
# own database roles and deletes them afterwards (the access-log rows stay: the log is
# append-only). Every process it starts it stops by PID.
# Usage: bench/lookup.sh [seconds=10] [connections=64]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
secs=${1:-10}
conns=${2:-64}
envfile=${SESSHU_BENCH_ENV:-$root/var/env.sh}
[[ -f $envfile ]] || { echo "bench: $envfile missing: run scripts/up.sh first" >&2; exit 1; }
# shellcheck disable=SC1090
. "$envfile"
for c in wrk jq psql curl nginx node npm; do command -v "$c" >/dev/null || { echo "bench: $c missing" >&2; exit 1; }; done
build=${SESSHU_BENCH_BUILD:-$root/build}
cmake --build "$build" -j2 --target sesshu-records sesshu-bench-bare >/dev/null
[[ -d $root/bench/peer/fastify/node_modules ]] || (cd "$root/bench/peer/fastify" && npm ci --no-audit --no-fund >/dev/null)

work=$(mktemp -d /tmp/sesshu-bench-lookup.XXXXXX)
gw_port=${SESSHU_BENCH_GATEWAY_PORT:-8282}
rec_port=${SESSHU_BENCH_RECORDS_PORT:-8193}
bare_port=${SESSHU_BENCH_BARE_PORT:-8194}
fast_port=${SESSHU_BENCH_FASTIFY_PORT:-8195}
muni=131016 # 千代田区: the benchmark client's municipality and the person's
rec_pw=$(cat "$SESSHU_RECORDS_DB_PASSWORD_FILE")
tok_pw=$(cat "$SESSHU_TOKEN_DB_PASSWORD_FILE")
dbargs="host=$SESSHU_DB_HOST port=$SESSHU_DB_PORT dbname=$SESSHU_DB_NAME"
psql_as() { # role password sql...
    local role=$1 pw=$2
    shift 2
    PGPASSWORD=$pw psql -X -qAt -v ON_ERROR_STOP=1 "$dbargs user=$role" "$@"
}
pids=()
client_id='' person_id='' imm_id=''
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [[ -f $work/gw/nginx.pid ]]; then kill "$(cat "$work/gw/nginx.pid")" 2>/dev/null || true; fi
    [[ -n $imm_id ]] && psql_as sesshu_records "$rec_pw" -c "DELETE FROM records.immunizations WHERE id = '$imm_id'" >/dev/null 2>&1
    [[ -n $person_id ]] && psql_as sesshu_records "$rec_pw" -c "DELETE FROM records.persons WHERE id = '$person_id'" >/dev/null 2>&1
    [[ -n $client_id ]] && psql_as sesshu_token "$tok_pw" -c "DELETE FROM token.clients WHERE id = '$client_id'" >/dev/null 2>&1
    sleep 0.3
    rm -rf "$work"
}
trap cleanup EXIT

# --- data: an API client of the municipality (records:read), a person and one record ---------
secret=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
hash=$(printf '%s' "$secret" | sha256sum | cut -c1-64)
org=$(psql_as sesshu_token "$tok_pw" -c "SELECT org_id FROM authz.active_organizations LIMIT 1")
client_id=$(psql_as sesshu_token "$tok_pw" -c "INSERT INTO token.clients (org_id, org_type, org_code, muni_code, pref_code, name, scopes, secret_hash, created_by) VALUES ('$org', 'municipality', '$muni', '$muni', '13', 'bench-lookup-$$-$RANDOM', '{records:read}', '$hash', '$org') RETURNING id")
person_id=$(psql_as sesshu_records "$rec_pw" -c "INSERT INTO records.persons (muni_code, resident_no, name, name_kana, birth_date, sex, address, created_by, updated_by) VALUES ('$muni', 'BENCH-$$-$RANDOM', '性能 試験', 'セイノウ シケン', '2020-04-01', '1', '東京都千代田区千代田1-1', 'bench', 'bench') RETURNING id")
imm_id=$(psql_as sesshu_records "$rec_pw" -c "INSERT INTO records.immunizations (person_id, muni_code, vaccinated_on, vaccine_code, disease_codes, dose_number, lot_no, institution_code, doctor_name, dose_ml, category, requested_category, source, registered_org_id, registered_by, updated_by) VALUES ('$person_id', '$muni', '2025-05-01', '631300601', '{measles,rubella}', 1, 'MR123', '0110113719', '医師 花子', 0.5, 'routine', 'routine', 'institution', '$org', 'bench', 'bench') RETURNING id")

# --- the three servers, each on its own port ------------------------------------------------
SESSHU_HTTP_THREADS=${SESSHU_BENCH_RECORDS_THREADS:-${SESSHU_HTTP_THREADS:-32}} SESSHU_RECORDS_PORT=$rec_port SESSHU_LOG_LEVEL=warning "$build/services/records/sesshu-records" >"$work/records.log" 2>&1 &
pids+=($!)
rec_pid=$!
"$build/bench/peer/sesshu-bench-bare" "$bare_port" "$dbargs user=sesshu_records password=$rec_pw" \
    "SELECT records.immunization_json(im)::text FROM records.immunizations im WHERE im.id = \$1::uuid" &
pids+=($!)
PORT=$fast_port PGHOST=$SESSHU_DB_HOST PGPORT=$SESSHU_DB_PORT PGDATABASE=$SESSHU_DB_NAME PGUSER=sesshu_records \
    PGPASSWORD=$rec_pw JWKS_URL=http://127.0.0.1:$SESSHU_TOKEN_PORT/.well-known/jwks.json ISSUER=$SESSHU_JWT_ISSUER \
    node "$root/bench/peer/fastify/server.mjs" >"$work/fastify.log" 2>&1 &
pids+=($!)
node_pid=$!

# --- the gateway: the stack's configuration, limits lifted, the records upstream on our instance
mkdir -p "$work/gw"
SESSHU_GW_LISTEN=127.0.0.1:$gw_port SESSHU_GW_PREFIX=$work/gw SESSHU_GW_NO_CHECK=1 \
    SESSHU_GW_API_RATE=1000000r/s SESSHU_GW_API_BURST=1000000 \
    SESSHU_GW_AUTH_RATE=1000000r/s SESSHU_GW_AUTH_BURST=1000000 \
    SESSHU_GW_TOKEN_RATE=1000000r/s SESSHU_GW_TOKEN_BURST=1000000 \
    SESSHU_GW_RECORDS_UPSTREAM=127.0.0.1:$rec_port SESSHU_GW_TOKEN_UPSTREAM=127.0.0.1:$SESSHU_TOKEN_PORT \
    "$root/deploy/gateway/render.sh" "$work/gw/nginx.conf"
python3 - "$work/gw/nginx.conf" "$bare_port" "$fast_port" <<'PY'
import sys
p, bare, fast = sys.argv[1], sys.argv[2], sys.argv[3]
s = open(p).read()
s = s.replace("http {", "http {\n    upstream bench_bare { server 127.0.0.1:%s; keepalive 32; }\n"
              "    upstream bench_fastify { server 127.0.0.1:%s; keepalive 32; }" % (bare, fast), 1)
i = s.index("        location ")
s = (s[:i] + "        location ^~ /bench/bare/ { proxy_pass http://bench_bare; }\n"
     "        location ^~ /bench/fastify/ { proxy_pass http://bench_fastify; }\n" + s[i:])
open(p, "w").write(s)
PY
nginx -p "$work/gw/" -c "$work/gw/nginx.conf" -e "$work/gw/error.log"
base=http://127.0.0.1:$gw_port
for _ in $(seq 100); do
    r=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$rec_port/healthz" || true)
    f=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$fast_port/" || true)
    [[ $r == 200 && $f == 404 ]] && break
    sleep 0.1
done

basic=$(printf '%s:%s' "$client_id" "$secret" | base64 -w0)
token=$(curl -fsS -H "Authorization: Basic $basic" -d grant_type=client_credentials "$base/oauth2/token" | jq -r .access_token)
auth="Authorization: Bearer $token"
ours=$base/api/v1/immunizations/$imm_id
fast=$base/bench/fastify/immunizations/$imm_id
bare=$base/bench/bare/$imm_id

# The three answer the same record (the peers do the same work, not less).
a=$(curl -fsS -H "$auth" "$ours" | jq -cS .)
b=$(curl -fsS -H "$auth" "$fast" | jq -cS .) || { tail -5 "$work/fastify.log" >&2; exit 1; }
c=$(curl -fsS "$bare" | jq -cS .)
[[ $a == "$b" && $a == "$c" ]] || { printf 'bench: the answers differ\n%s\n%s\n%s\n' "$a" "$b" "$c" >&2; exit 1; }
[[ $(curl -s -o /dev/null -w '%{http_code}' "$fast") == 401 ]] || { echo "bench: the fastify peer does not check the token" >&2; exit 1; }

# Warm-up: pools, prepared statements, the token cache, the JIT.
for u in "$ours" "$fast"; do wrk -t1 -c8 -d2s -H "$auth" "$u" >/dev/null; done
wrk -t1 -c8 -d2s "$bare" >/dev/null

echo "== (a) single-record lookup through the gateway (wrk -t2 -c$conns -d${secs}s)"
bench_wrk records -t2 -c"$conns" -d"${secs}s" -H "$auth" "$ours"
bench_wrk fastify -t2 -c"$conns" -d"${secs}s" -H "$auth" "$fast"
bench_wrk bare -t2 -c"$conns" -d"${secs}s" "$bare"
light=$((secs / 2 > 2 ? secs / 2 : 2))
echo "   light load (wrk -t1 -c4 -d${light}s), latency as a person sees it:"
bench_wrk records_light -t1 -c4 -d"${light}s" -H "$auth" "$ours"
bench_wrk fastify_light -t1 -c4 -d"${light}s" -H "$auth" "$fast"
bench_wrk bare_light -t1 -c4 -d"${light}s" "$bare"
awk -v a="${RPS[records]}" -v b="${RPS[fastify]}" -v pa="${P99[records]}" -v pb="${P99[fastify]}" \
    'BEGIN{printf "ratio records/fastify = %.2f (aim >= 2), p99 %s ms vs %s ms (aim lower)\n", a/b, pa, pb}'
awk -v a="${RPS[records]}" -v b="${RPS[bare]}" 'BEGIN{printf "ratio records/bare    = %.2f (aim >= 0.6)\n", a/b}'
echo "== memory (VmRSS) after the run"
printf '%-12s %s\n' records "$(awk '/VmRSS/ {print $2" "$3}' "/proc/$rec_pid/status")"
printf '%-12s %s\n' fastify "$(awk '/VmRSS/ {print $2" "$3}' "/proc/$node_pid/status")"
