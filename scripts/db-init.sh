#!/usr/bin/env bash
# scripts/db-init.sh - the database part of scripts/up.sh alone: the PostgreSQL 15 cluster under
# var/ (initialised if new, started if stopped, port 5433) with database `sesshu` and, for each
# service in services/, its login role, password (var/secrets/db-<svc>.pw) and schemas
# (db/roles.sql). Also writes var/env.sh. Idempotent; scripts/down.sh stops the database.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

SS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
. "$SS_REPO/scripts/lib.sh"
ss_profile up
var=$(ss_choose_up_var "$SS_REPO")
ss_init "$var"
ss_prepare_var
ss_make_secrets
ss_write_env "http://localhost:$SS_GW_PORT"
ss_pg_init
ss_pg_start
ss_pg_roles
ss_log "database $SS_DB_NAME ready on 127.0.0.1:$SS_PG_PORT (environment: $SS_ENV_FILE)"
