#!/usr/bin/env bash
# bench/token.sh - the token service (H-2) benchmark, against a running stack:
#  (a) POST /oauth2/token, client credentials with client_secret_basic, through the gateway
#      (secret check, use count, ES256 signature, access log), against Keycloak's sizing figure
#      of 120 client-credential grants/s per vCPU on this machine's 2 vCPUs;
#  (b) a client's bearer token on a protected endpoint (GET /api/v1/api-clients: verification
#      through the cache, revocation check, the permission check refusing it with 403, access log);
#  (c) POST /oauth2/introspect (client authentication and a signature verification).
# One client makes every request, so (a) and (c) measure the kept-authentication path of the
# token service (services/token/cache.c): start it with SESSHU_TOKEN_CLIENT_CACHE_MS=0 to measure
# a database read per grant instead.
# The gateway is rendered on its own port with rate limits lifted (as bench/run.sh does). The
# benchmark client is written straight into token.clients with the token service's own database
# role and deleted afterwards. Loopback only; what it starts it stops by PID.
# Usage: bench/token.sh [seconds=10] [connections=64]; SESSHU_BENCH_ENV names the stack's env.sh
# (default var/env.sh of scripts/up.sh).
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
for c in wrk jq psql curl nginx; do command -v "$c" >/dev/null || { echo "bench: $c missing" >&2; exit 1; }; done
work=$(mktemp -d /tmp/sesshu-bench-token.XXXXXX)
gw_port=${SESSHU_BENCH_GATEWAY_PORT:-8281}
db_pw=$(cat "$SESSHU_TOKEN_DB_PASSWORD_FILE")
export PGPASSWORD=$db_pw
psql_token() {
    psql -X -qAt -v ON_ERROR_STOP=1 \
        "host=$SESSHU_DB_HOST port=$SESSHU_DB_PORT dbname=$SESSHU_DB_NAME user=sesshu_token" "$@"
}
client_id=
cleanup() {
    [[ -n $client_id ]] && psql_token -c "DELETE FROM token.clients WHERE id = '$client_id'" >/dev/null 2>&1
    if [[ -f $work/gw/nginx.pid ]]; then kill "$(cat "$work/gw/nginx.pid")" 2>/dev/null || true; fi
    sleep 0.3
    rm -rf "$work"
}
trap cleanup EXIT

# The benchmark client: a 32-byte random secret, stored as its SHA-256 like the service does.
secret=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
hash=$(printf '%s' "$secret" | sha256sum | cut -c1-64)
org=$(psql_token -c "SELECT org_id FROM authz.active_organizations LIMIT 1")
client_id=$(psql_token -c "INSERT INTO token.clients (org_id, org_type, org_code, muni_code, name, scopes, secret_hash, created_by) VALUES ('$org', 'municipality', 'BENCH', '131016', 'bench-$$-$RANDOM', '{records:read,masters:read}', '$hash', '$org') RETURNING id")

# The same gateway configuration on its own port, every rate limit lifted.
mkdir -p "$work/gw"
SESSHU_GW_LISTEN=127.0.0.1:$gw_port SESSHU_GW_PREFIX=$work/gw SESSHU_GW_NO_CHECK=1 \
    SESSHU_GW_API_RATE=1000000r/s SESSHU_GW_API_BURST=1000000 \
    SESSHU_GW_AUTH_RATE=1000000r/s SESSHU_GW_AUTH_BURST=1000000 \
    SESSHU_GW_TOKEN_RATE=1000000r/s SESSHU_GW_TOKEN_BURST=1000000 \
    SESSHU_GW_ACCOUNT_UPSTREAM=127.0.0.1:$SESSHU_ACCOUNT_PORT SESSHU_GW_TOKEN_UPSTREAM=127.0.0.1:$SESSHU_TOKEN_PORT \
    SESSHU_GW_AUDIT_UPSTREAM=127.0.0.1:$SESSHU_AUDIT_PORT \
    "$root/deploy/gateway/render.sh" "$work/gw/nginx.conf"
nginx -p "$work/gw/" -c "$work/gw/nginx.conf" -e "$work/gw/error.log"
base=http://127.0.0.1:$gw_port
for _ in $(seq 50); do curl -s -o /dev/null "$base/healthz" && break; sleep 0.1; done

basic=$(printf '%s:%s' "$client_id" "$secret" | base64 -w0)
token=$(curl -fsS -H "Authorization: Basic $basic" -d grant_type=client_credentials "$base/oauth2/token" | jq -r .access_token)
[[ -n $token && $token != null ]] || { echo "bench: no token from $base/oauth2/token" >&2; exit 1; }


cat >"$work/grant.lua" <<LUA
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=records%3Aread"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $basic"
LUA
cat >"$work/introspect.lua" <<LUA
wrk.method = "POST"
wrk.body = "token=$token"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $basic"
LUA

echo "== (a) client credentials grants through the gateway (wrk -t2 -c$conns -d${secs}s)"
bench_wrk grant -t2 -c"$conns" -d"${secs}s" -s "$work/grant.lua" "$base/oauth2/token"
awk -v a="${RPS[grant]}" 'BEGIN{printf "ratio against Keycloak sizing (120 grants/s/vCPU x 2 vCPU = 240/s): %.1fx (aim >= 20x)\n", a/240}'
echo "== (b) bearer client token on a protected endpoint (verified, refused 403 by the permission check)"
bench_wrk bearer -t2 -c"$conns" -d"${secs}s" -H "Authorization: Bearer $token" "$base/api/v1/api-clients"
echo "== (c) token introspection"
bench_wrk introspect -t2 -c"$conns" -d"${secs}s" -s "$work/introspect.lua" "$base/oauth2/introspect"
