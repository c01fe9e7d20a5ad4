#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# scripts/up.sh - build sesshu and run the whole local stack on loopback, with demo data.
#
#   sudo scripts/up.sh        (as root on Debian 12; as another user with everything installed)
#
# Installs missing packages, builds (build/), initialises a PostgreSQL 15 cluster under var/ on
# port 5433, starts the SMTP sink (2525), audit first and then every other service (81xx; each
# applies its own migrations at start under an advisory lock), the nginx gateway on
# localhost:8080, loads demo data and the reference data (scripts/reference-data.sh: the
# complete bank list, the public holidays) and prints where everything is. Running it again keeps what
# runs (restarting services whose binary was rebuilt) and changes nothing else.
# scripts/down.sh stops it all.
set -euo pipefail

SS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
. "$SS_REPO/scripts/lib.sh"
ss_profile up
cd "$SS_REPO"

# 1. packages (as another user: prints the apt-get line it needs and stops, if any is missing)
bash scripts/install-deps.sh || exit 1

# 2. build
ss_log "building ($SS_BIN_DIR)"
if [[ ! -f $SS_BIN_DIR/CMakeCache.txt ]]; then
    cmake -S . -B "$SS_BIN_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || ss_die "cmake configure failed"
fi
build_log=$(mktemp)
if ! cmake --build "$SS_BIN_DIR" -j2 >"$build_log" 2>&1; then
    tail -n 60 "$build_log" >&2
    rm -f "$build_log"
    ss_die "the build failed"
fi
rm -f "$build_log"

# 3. runtime directory, secrets, environment
ss_init "$(ss_choose_up_var "$SS_REPO")"
ss_prepare_var
ss_make_secrets
ss_write_env "http://localhost:$SS_GW_PORT"
# shellcheck source=/dev/null
. "$SS_ENV_FILE"

# 4. database
ss_pg_init
ss_pg_start
ss_pg_roles

# 5. mail, services, gateway
ss_smtp_start
ss_services_start 30 || ss_die "a service did not start (its log is above); scripts/down.sh stops the rest"
ss_gw_start

# 6. demo data
SESSHU_DEMO_BASE_URL=http://127.0.0.1:$SS_GW_PORT SESSHU_DEMO_VAR=$SS_VAR \
    bash "$SS_REPO/scripts/demo-data.sh" || ss_die "loading the demo data failed"
# the complete bank and branch list (npm zengin-code) and the public holidays (npm @holiday-jp)
SESSHU_REF_BASE_URL=http://127.0.0.1:$SS_GW_PORT SESSHU_REF_PASSWORD_FILE=$SS_SECRETS/demo-password \
    bash "$SS_REPO/scripts/reference-data.sh" || ss_die "loading the reference data failed"

# 7. where everything is
{
    echo
    echo "sesshu is up."
    echo
    printf '  %-22s %s\n' "gateway (the API)" "http://localhost:$SS_GW_PORT   (e.g. curl http://localhost:$SS_GW_PORT/healthz)"
    for svc in $(ss_services); do
        printf '  %-22s %s\n' "$svc service" "http://127.0.0.1:$(ss_svc_port "$svc")   (/healthz /readyz /metrics)  pid $(cat "$SS_RUN/$svc.pid")"
    done
    printf '  %-22s %s\n' "PostgreSQL 15" "127.0.0.1:$SS_PG_PORT, database $SS_DB_NAME (superuser: $(ss_pg_user) over $SS_PGSOCK)"
    printf '  %-22s %s\n' "SMTP sink" "127.0.0.1:$SS_SMTP_PORT, every message in $SS_MAIL/*.eml"
    printf '  %-22s %s\n' "logs" "$SS_LOGDIR/"
    printf '  %-22s %s\n' "environment" "$SS_ENV_FILE"
    echo
    echo "  log in as chuokai-admin (国保中央会) with password: $(cat "$SS_SECRETS/admin-password")"
    echo "  demo users (every organisation's admin, staff; password in $SS_SECRETS/demo-password),"
    echo "  and 渋谷区's demo residents: $SS_SECRETS/demo-users.txt"
    echo
    echo "  curl -s http://localhost:$SS_GW_PORT/api/v1/auth/login -H 'Content-Type: application/json' \\"
    echo "       -d '{\"user_id\":\"chuokai-admin\",\"password\":\"'\"\$(cat $SS_SECRETS/admin-password)\"'\"}' | jq ."
    echo
    echo "  stop everything: scripts/down.sh"
}
