#!/usr/bin/env bash
# scripts/test-containers.sh - the suite's black-box API tests against the stack of
# docker-compose.yml, built and run here in containers (scripts/test.sh's "containers" layer).
#
#  1. a Docker engine: the running one, else `dockerd` started here (and stopped at the end)
#  2. the base image: a bookworm root filesystem made by debootstrap from the machine's Debian
#     mirror and `docker import`ed as sesshu-base:bookworm, once (kept in the engine after that;
#     no registry is reachable here, so debian:bookworm cannot be pulled)
#  3. every image of deploy/docker/Dockerfile (runtime, smtp-sink, gateway, and postgres: Debian's
#     postgresql-15 in place of postgres:15-bookworm), built with --network host on that base
#  4. the stack by compose (Compose v2 if present, else Debian's docker-compose v1) from the file
#     scripts/compose-host.py makes of docker-compose.yml: host networking, 127.0.0.1 only, every
#     port moved by SESSHU_CT_PORT_OFFSET (default 1000: gateway 9080, services 9101-9109,
#     PostgreSQL 6433, SMTP 3525), so all traffic stays on loopback
#  5. every service's /readyz and the gateway (start-up time), then tests/api with node --test, as scripts/test.sh
#     runs them (minus the files in CT_EXCLUDED, each with its reason)
#  6. figures: image sizes, start-up time, each container's memory after the tests
#  7. down -v: containers, network, volumes, also on failure or a signal
# Ends with "N passed, N failed". Exit 0 all passed, 1 something failed, 77 skipped (no engine).
#   SESSHU_CT_PORT_OFFSET=N   ports +N (default 1000)
#   SESSHU_CT_API_FILES="a.test.mjs ..."   run only these API files
#   SESSHU_CT_REFERENCE=1     also start the one-shot reference-data container (the real bank
#                             master and holidays; left out otherwise, as the local test stack)
#   SESSHU_CT_KEEP=1          leave the stack running and the work directory (for a look)
#   SESSHU_TEST_TMPDIR=DIR    where the work directory is made (default /tmp)
#   SESSHU_CT_FIGURES=FILE    also write the figures there
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 1
OFF=${SESSHU_CT_PORT_OFFSET:-1000}
[[ $OFF =~ ^[0-9]{1,4}$ && $OFF -le 9000 ]] || { echo "SESSHU_CT_PORT_OFFSET must be 0..9000" >&2; exit 2; }
BASE_TAG=sesshu-base:bookworm
PROJECT=sesshu-ct-$OFF
GW_PORT=$((8080 + OFF))
PG_PORT=$((5433 + OFF))
TMP_PARENT=${SESSHU_TEST_TMPDIR:-/tmp}
mkdir -p "$TMP_PARENT" && chmod a+rx "$TMP_PARENT" || exit 1
WORK=$(mktemp -d "$TMP_PARENT/sesshu-ct.XXXXXX") || exit 1
chmod 755 "$WORK"
FIG=$WORK/figures.txt
DOCKERD_PID=
LOGS_PID=
SAMPLER_PID=
UP=0

# Files that need what only the local stack has, each with the reason (none so far).
declare -A CT_EXCLUDED=()

# The gateway limits and the CORS origin the API tests expect (the same defaults as
# scripts/test.sh, which exports them when it runs this); scripts/compose-host.py passes them on.
export SESSHU_GW_AUTH_RATE=${SESSHU_GW_AUTH_RATE:-20r/s} SESSHU_GW_AUTH_BURST=${SESSHU_GW_AUTH_BURST:-40}
export SESSHU_GW_TOKEN_RATE=${SESSHU_GW_TOKEN_RATE:-20r/s} SESSHU_GW_TOKEN_BURST=${SESSHU_GW_TOKEN_BURST:-40}
export SESSHU_GW_API_RATE=${SESSHU_GW_API_RATE:-20000r/s} SESSHU_GW_API_BURST=${SESSHU_GW_API_BURST:-40000}
export SESSHU_GW_CORS_ORIGINS=${SESSHU_GW_CORS_ORIGINS:-https://portal.sesshu.test}
# Statistics recomputed on every read, as on the local stack (the tests read their own writes).
export SESSHU_STATS_REFRESH_MS=${SESSHU_STATS_REFRESH_MS:-0}
# ... and the gateway's cache of the public datasets off, as scripts/lib.sh has it for a test stack.
export SESSHU_GW_STATS_CACHE=${SESSHU_GW_STATS_CACHE:-off}

say() { printf '==> %s\n' "$*" >&2; }
fig() { printf '%s\n' "$*" | tee -a "$FIG"; }

compose() {
    "${COMPOSE[@]}" -p "$PROJECT" -f "$WORK/compose.yml" --project-directory "$REPO" "$@"
}

teardown() {
    [[ -n $SAMPLER_PID ]] && kill "$SAMPLER_PID" 2>/dev/null && wait "$SAMPLER_PID" 2>/dev/null
    [[ -n $LOGS_PID ]] && kill "$LOGS_PID" 2>/dev/null && wait "$LOGS_PID" 2>/dev/null
    LOGS_PID=
    if [[ $UP -eq 1 && ${SESSHU_CT_KEEP:-0} != 1 ]]; then
        say "down: containers, network and volumes of $PROJECT"
        timeout 120 "${COMPOSE[@]}" -p "$PROJECT" -f "$WORK/compose.yml" --project-directory "$REPO" \
            down -v --remove-orphans --timeout 10 >"$WORK/down.log" 2>&1 || tail -n 20 "$WORK/down.log" >&2
        UP=0
    fi
    if [[ -n $DOCKERD_PID ]]; then
        kill "$DOCKERD_PID" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.2; done
        DOCKERD_PID=
    fi
    if [[ ${SESSHU_CT_KEEP:-0} == 1 ]]; then
        echo "kept $WORK (stack $PROJECT still up)" >&2
    else
        rm -rf "$WORK"
    fi
}
trap teardown EXIT
trap 'exit 130' INT TERM

skip() {
    echo "SKIP: $*"
    echo "0 passed, 0 failed"
    exit 77
}

# --- 1. engine ---------------------------------------------------------------------------------
engine() {
    docker info >/dev/null 2>&1 && return 0
    command -v dockerd >/dev/null 2>&1 || return 1
    [[ $(id -u) -eq 0 ]] || return 1
    say "starting dockerd (log $WORK/dockerd.log)"
    dockerd >"$WORK/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && return 0
        kill -0 "$DOCKERD_PID" 2>/dev/null || break
        sleep 0.5
    done
    tail -n 20 "$WORK/dockerd.log" >&2
    return 1
}
command -v docker >/dev/null 2>&1 || skip "no docker client (scripts/install-deps.sh installs docker.io)"
engine || skip "no Docker engine (docker info fails and dockerd could not be started)"
if docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE=(docker-compose)
else
    skip "no compose (docker compose or Debian's docker-compose)"
fi
say "engine $(docker version -f '{{.Server.Version}}' 2>/dev/null), compose: ${COMPOSE[*]}"

# --- 2. base image -----------------------------------------------------------------------------
# The machine's own Debian mirror (apt's sources), so debootstrap reaches what apt reaches.
mirror() {
    local m
    m=$(grep -rhoE '^(URIs:|deb)[[:space:]]+(\[[^]]*\][[:space:]]+)?https?://[^[:space:]]+/debian/?([[:space:]]|$)' \
        /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | grep -oE 'https?://[^[:space:]]+' | head -n 1)
    echo "${m:-http://deb.debian.org/debian}"
}
base_image() {
    docker image inspect "$BASE_TAG" >/dev/null 2>&1 && { fig "base image: $BASE_TAG cached"; return 0; }
    command -v debootstrap >/dev/null 2>&1 || { echo "debootstrap is missing" >&2; return 1; }
    local t0 root=$WORK/rootfs m
    m=$(mirror)
    t0=$(date +%s)
    say "debootstrap bookworm from $m"
    debootstrap --variant=minbase bookworm "$root" "$m" >"$WORK/debootstrap.log" 2>&1 ||
        { tail -n 20 "$WORK/debootstrap.log" >&2; return 1; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -c . | docker import --change 'CMD ["/bin/bash"]' - "$BASE_TAG" >/dev/null || return 1
    rm -rf "$root"
    fig "base image: $BASE_TAG made by debootstrap in $(($(date +%s) - t0)) s"
}

# --- 3. images ---------------------------------------------------------------------------------
# target:tag, in build order (docker-compose.yml's image names; postgres only for this test).
IMAGES=(runtime:sesshu-runtime:dev smtp-sink:sesshu-smtp-sink:dev gateway:sesshu-gateway:dev
    postgres:sesshu-postgres:dev)
# SESSHU_CT_REFERENCE=1: the reference-data container too (scripts/compose-host.py drops it
# otherwise), its npm packages from the host's npm like the dashboard's.
[[ ${SESSHU_CT_REFERENCE:-0} == 1 ]] && IMAGES+=(reference:sesshu-reference:dev)
build_images() {
    local spec target tag t0
    # The stats page's npm packages from the host's npm (the image's may not reach the registry
    # through what the host trusts); the Dockerfile's dashboard stage then fetches nothing.
    if [[ ! -x services/stats/dashboard/node_modules/.bin/esbuild ]]; then
        (cd services/stats/dashboard && npm ci --no-audit --no-fund --loglevel=error) >&2 || return 1
    fi
    if [[ ${SESSHU_CT_REFERENCE:-0} == 1 && ! -f scripts/reference/node_modules/zengin-code/package.json ]]; then
        npm ci --prefix scripts/reference --no-audit --no-fund --loglevel=error >&2 || return 1
    fi
    for spec in "${IMAGES[@]}"; do
        target=${spec%%:*}
        tag=${spec#*:}
        t0=$(date +%s)
        say "building $tag (target $target)"
        # The classic builder: Debian's docker.io has no buildx; every stage is cached.
        DOCKER_BUILDKIT=0 docker build --network host -f deploy/docker/Dockerfile --target "$target" \
            --build-arg BASE_IMAGE="$BASE_TAG" --build-arg SLIM_IMAGE="$BASE_TAG" -t "$tag" . \
            >"$WORK/build-$target.log" 2>&1 || { tail -n 40 "$WORK/build-$target.log" >&2; return 1; }
        fig "image $tag: built in $(($(date +%s) - t0)) s, $(($(docker image inspect -f '{{.Size}}' "$tag") / 1000000)) MB"
    done
}

# --- 4./5. the stack ---------------------------------------------------------------------------
# Every service's /readyz (its database and migrations), then the gateway's /healthz (nginx
# itself: its /readyz is a service path).
ready() {
    local n
    for n in $(seq 1 9); do
        curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$((8100 + n + OFF))/readyz" 2>/dev/null || return 1
    done
    curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$GW_PORT/healthz" 2>/dev/null
}
cname() { compose ps -q "$1" 2>/dev/null | head -n 1; }
start_stack() {
    local t0 p
    for p in "$GW_PORT" "$PG_PORT" $((2525 + OFF)) $(seq $((8101 + OFF)) $((8109 + OFF))); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "port $p is in use (another stack on offset $OFF?)" >&2
            return 1
        fi
    done
    mkdir -p "$WORK/mail" "$WORK/log"
    chmod 1777 "$WORK/mail"
    /usr/bin/python3 scripts/compose-host.py . "$OFF" "$WORK/mail" "$WORK/compose.yml" || return 1
    compose config -q || return 1
    t0=$(date +%s.%N)
    UP=1
    say "compose up ($PROJECT)"
    # A healthy gateway means every service answered /readyz (the start order of depends_on).
    compose up -d --no-build >"$WORK/up.log" 2>&1 || { tail -n 30 "$WORK/up.log" >&2; return 1; }
    for _ in $(seq 1 900); do
        ready && break
        sleep 0.2
    done
    ready || { echo "the services' /readyz and the gateway's /healthz did not all answer within 180 s" >&2; compose ps >&2; return 1; }
    fig "start-up: compose up to every /readyz and the gateway answering in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s (new volumes: database initialised, every service's migrations)"
}

# The variables scripts/test.sh gives the API tests, pointed at the containers.
test_env() {
    local acct pw
    acct=$(cname account)
    export SESSHU_TEST_BASE_URL=http://127.0.0.1:$GW_PORT
    SESSHU_TEST_ADMIN_PASSWORD=$(docker exec "$acct" cat /run/sesshu/secrets/admin-password) || return 1
    pw=$(docker exec "$acct" cat /run/sesshu/secrets/postgres.pw) || return 1
    export SESSHU_TEST_ADMIN_PASSWORD
    export SESSHU_TEST_MAIL_DIR=$WORK/mail
    # The database superuser over TCP on loopback with its password (scram-sha-256).
    export SESSHU_TEST_PSQL="env PGPASSWORD=$pw PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -p $PG_PORT -U postgres -d sesshu -v ON_ERROR_STOP=1 -qAt"
    export SESSHU_TEST_ACCOUNT_URL=http://127.0.0.1:$((8101 + OFF))
    export SESSHU_TEST_AUDIT_URL=http://127.0.0.1:$((8108 + OFF))
    # The account service's jobs run inside its container, with its own environment.
    printf '#!/bin/sh\nexec docker exec -i %s sesshu-account "$@"\n' "$acct" >"$WORK/sesshu-account"
    chmod 755 "$WORK/sesshu-account"
    export SESSHU_TEST_ACCOUNT_BIN=$WORK/sesshu-account
    # The stack's variables (every service's, as compose gives them), where the tests read
    # policies and the signing keys, with the secrets copied out of the volume to the host;
    # log/postgresql.log beside it follows the database container's log.
    docker cp "$acct:/run/sesshu/." "$WORK/run-sesshu" >/dev/null || return 1
    local svc
    for svc in audit account token notice payment master records certificate stats; do
        docker exec "$(cname "$svc")" env
    done | grep -E '^SESSHU_[A-Z0-9_]+=' | sort -u |
        sed -E "s|=/run/sesshu/|=$WORK/run-sesshu/|; s/^([A-Z0-9_]+)=(.*)$/export \1='\2'/" >"$WORK/env.sh"
    export SESSHU_TEST_ENV_FILE=$WORK/env.sh
    docker logs -f "$(cname postgres)" >"$WORK/log/postgresql.log" 2>&1 &
    LOGS_PID=$!
}

run_api() {
    local files=() f rc pass fail cancelled
    if [[ -n ${SESSHU_CT_API_FILES:-} ]]; then
        read -r -d "" -a files <<<"$SESSHU_CT_API_FILES" || true
    else
        for f in tests/api/*.test.mjs; do
            f=${f#tests/api/}
            if [[ -n ${CT_EXCLUDED[$f]:-} ]]; then
                echo "not run here: $f (${CT_EXCLUDED[$f]})"
                continue
            fi
            files+=("$f")
        done
    fi
    sample_stats &
    SAMPLER_PID=$!
    (cd tests/api && node --test --test-concurrency=1 --test-reporter=tap "${files[@]}") >"$WORK/api.log" 2>&1
    rc=$?
    kill "$SAMPLER_PID" 2>/dev/null
    wait "$SAMPLER_PID" 2>/dev/null
    SAMPLER_PID=
    pass=$(grep -E '^# pass [0-9]+$' "$WORK/api.log" | tail -n 1 | awk '{print $3}')
    fail=$(grep -E '^# fail [0-9]+$' "$WORK/api.log" | tail -n 1 | awk '{print $3}')
    cancelled=$(grep -E '^# cancelled [0-9]+$' "$WORK/api.log" | tail -n 1 | awk '{print $3}')
    grep -E '^# (tests|pass|fail|cancelled|duration_ms)' "$WORK/api.log"
    if [[ -z $pass || -z $fail ]]; then
        tail -n 40 "$WORK/api.log"
        API_PASSED=0 API_FAILED=1
        return
    fi
    API_PASSED=$pass
    API_FAILED=$((fail + ${cancelled:-0}))
    [[ $rc -ne 0 && $API_FAILED -eq 0 ]] && API_FAILED=1
    if [[ $API_FAILED -ne 0 ]]; then
        # The failing tests with their reasons (TAP's YAML blocks), then the containers' logs.
        grep -nE -A25 '^\s*not ok' "$WORK/api.log" | head -n 200
        compose logs --no-color --tail 30 >"$WORK/compose-logs.txt" 2>&1
        tail -n 150 "$WORK/compose-logs.txt"
    fi
}

# Every container's memory (docker stats: the cgroup's usage less its page cache) and CPU, every
# few seconds while the API tests run; memory_figures prints each one's peak.
sample_stats() {
    local ids=()
    mapfile -t ids < <(compose ps -q)
    [[ ${#ids[@]} -gt 0 ]] || return 0
    while :; do
        docker stats --no-stream --format '{{.Name}} {{.MemUsage}} {{.CPUPerc}}' "${ids[@]}" 2>/dev/null |
            sed -E "s/^${PROJECT}_//; s/_1 / /" >>"$WORK/stats.txt"
        sleep 3
    done
}
memory_figures() {
    [[ -s $WORK/stats.txt ]] || return 0
    awk 'function mib(v) { if (v ~ /GiB$/) return v * 1024; if (v ~ /MiB$/) return v + 0; if (v ~ /KiB$/) return v / 1024; return 0 }
        { m = mib($2); c = $5 + 0; if (m > mem[$1]) mem[$1] = m; if (c > cpu[$1]) cpu[$1] = c; n[$1]++ }
        END { for (k in mem) printf "%s %.1f MiB peak memory, %.0f%% peak CPU (%d samples)\n", k, mem[k], cpu[k], n[k] }' \
        "$WORK/stats.txt" | sort | while read -r line; do fig "under the API tests: $line"; done
}

API_PASSED=0
API_FAILED=1
t_all=$(date +%s)
if base_image && build_images && start_stack && test_env; then
    run_api
    memory_figures
else
    echo "the container stack could not be built or started" >&2
    [[ $UP -eq 1 ]] && compose logs --no-color --tail 40 2>&1 | tail -n 200
fi
fig "containers layer: $(($(date +%s) - t_all)) s in all"
[[ -n ${SESSHU_CT_FIGURES:-} ]] && cp "$FIG" "$SESSHU_CT_FIGURES"
echo "$API_PASSED passed, $API_FAILED failed"
[[ $API_FAILED -eq 0 ]]
