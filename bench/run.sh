#!/usr/bin/env bash
# bench/run.sh - the foundation benchmark, in one run, against the local stack (scripts/up.sh):
#  (a) GET /api/v1/me through the gateway (authenticated, access-logged) against a bare
#      ulfius + libpq primary-key lookup behind the same gateway (the limit of a request that
#      reads the database);
#  (b) POST /api/v1/auth/login through the gateway against the raw argon2id hash rate of the
#      same parameters on both cores (the limit of login).
# Prints req/s, p50, p99 and the two ratios, and each service's memory. Loopback only; every
# process it starts it stops by PID. Usage: bench/run.sh [seconds=10] [connections=64]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
secs=${1:-10}
conns=${2:-64}
[[ -f $root/var/env.sh ]] || { echo "bench: run scripts/up.sh first" >&2; exit 1; }
# shellcheck disable=SC1091
. "$root/var/env.sh"
command -v wrk >/dev/null || { echo "bench: wrk missing (apt-get install wrk)" >&2; exit 1; }
build=${SESSHU_BENCH_BUILD:-$root/build}
cmake --build "$build" -j2 --target sesshu-bench-bare sesshu-bench-hashrate >/dev/null
work=$(mktemp -d /tmp/sesshu-bench.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [[ -f $work/gw/nginx.pid ]]; then kill "$(cat "$work/gw/nginx.pid")" 2>/dev/null || true; fi
    sleep 0.3
    rm -rf "$work"
}
trap cleanup EXIT

gw_port=${SESSHU_BENCH_GATEWAY_PORT:-8280}
bare_port=${SESSHU_BENCH_BARE_PORT:-8199}
admin_pw=$(cat "$root/var/secrets/admin-password")
pw_file_var=SESSHU_ACCOUNT_DB_PASSWORD_FILE
db_pw=$(cat "${!pw_file_var}")

# The bare peer reads the same table with the account service's own database role.
"$build/bench/peer/sesshu-bench-bare" "$bare_port" \
    "host=$SESSHU_DB_HOST port=$SESSHU_DB_PORT dbname=$SESSHU_DB_NAME user=sesshu_account password=$db_pw" &
pids+=($!)

# The same gateway configuration, on its own port, with rate limits lifted and one extra route.
mkdir -p "$work/gw"
SESSHU_GW_LISTEN=127.0.0.1:$gw_port SESSHU_GW_PREFIX=$work/gw SESSHU_GW_NO_CHECK=1 \
    SESSHU_GW_API_RATE=1000000r/s SESSHU_GW_API_BURST=1000000 \
    SESSHU_GW_AUTH_RATE=1000000r/s SESSHU_GW_AUTH_BURST=1000000 \
    "$root/deploy/gateway/render.sh" "$work/gw/nginx.conf"
python3 - "$work/gw/nginx.conf" "$bare_port" <<'PY'
import sys
p, port = sys.argv[1], sys.argv[2]
s = open(p).read()
s = s.replace("http {", "http {\n    upstream bench_bare { server 127.0.0.1:%s; keepalive 32; }" % port, 1)
i = s.index("        location ")
s = s[:i] + "        location ^~ /bench/bare/ { proxy_pass http://bench_bare; }\n" + s[i:]
open(p, "w").write(s)
PY
nginx -p "$work/gw/" -c "$work/gw/nginx.conf" -e "$work/gw/error.log"
base=http://127.0.0.1:$gw_port
for _ in $(seq 50); do curl -s -o /dev/null "$base/healthz" && break; sleep 0.1; done

login_body=$(jq -nc --arg p "$admin_pw" '{user_id:"chuokai-admin",password:$p}')
token=$(curl -fsS -H 'Content-Type: application/json' -d "$login_body" "$base/api/v1/auth/login" | jq -r .access_token)
uid=$(curl -fsS -H "Authorization: Bearer $token" "$base/api/v1/me" | jq -r .user.id)
curl -fsS -o /dev/null "$base/bench/bare/$uid"


echo "== (a) authenticated, access-logged read vs bare primary-key lookup (wrk -t2 -c$conns -d${secs}s)"
bench_wrk me -t2 -c"$conns" -d"${secs}s" -H "Authorization: Bearer $token" "$base/api/v1/me"
bench_wrk bare -t2 -c"$conns" -d"${secs}s" "$base/bench/bare/$uid"
echo "   light load (wrk -t1 -c4), latency as a person sees it:"
bench_wrk me_light -t1 -c4 -d"$(( secs / 2 > 2 ? secs / 2 : 2 ))s" -H "Authorization: Bearer $token" "$base/api/v1/me"
bench_wrk bare_light -t1 -c4 -d"$(( secs / 2 > 2 ? secs / 2 : 2 ))s" "$base/bench/bare/$uid"
awk -v a="${RPS[me]}" -v b="${RPS[bare]}" 'BEGIN{printf "ratio (a) me/bare = %.2f (aim >= 0.6)\n", a/b}'

echo "== (b) login vs raw argon2id hash rate on both cores"
hash_rate=$("$build/bench/peer/sesshu-bench-hashrate" 2 "$secs")
printf '%-34s %10s hashes/s\n' "argon2id m=19456 t=2 p=1, 2 threads" "$hash_rate"
cat >"$work/login.lua" <<LUA
wrk.method = "POST"
wrk.body = '$login_body'
wrk.headers["Content-Type"] = "application/json"
LUA
bench_wrk login -t2 -c8 -d"${secs}s" -s "$work/login.lua" "$base/api/v1/auth/login"
awk -v a="${RPS[login]}" -v b="$hash_rate" 'BEGIN{printf "ratio (b) login/hash = %.2f (aim >= 0.8)\n", a/b}'

echo "== memory (VmRSS) after the run"
for f in "$root"/var/run/*.pid; do
    [[ -f $f ]] || continue
    p=$(cat "$f"); n=$(basename "$f" .pid)
    [[ -r /proc/$p/status ]] && printf '%-12s %s\n' "$n" "$(awk '/VmRSS/ {print $2" "$3}' "/proc/$p/status")"
done
