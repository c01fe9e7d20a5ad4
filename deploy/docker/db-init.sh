#!/bin/sh
# deploy/docker/db-init.sh - run once by the postgres image's entrypoint (mounted into
# /docker-entrypoint-initdb.d) on a new data volume: db/roles.sql for each service, with the
# passwords init-secrets made. Same roles and schemas as scripts/lib.sh ss_pg_roles.
# Idempotent (db/roles.sql is): on a volume made before a service was added, run it again with
#   docker compose exec -e POSTGRES_USER=postgres -e POSTGRES_DB=sesshu postgres \
#       sh /docker-entrypoint-initdb.d/10-sesshu-roles.sh
set -eu
# Audit first (as ss_services orders them); then the others, each with its own schema.
for spec in audit:audit account:account,authz token:token records:records certificate:certificate master:master payment:payment notice:notice stats:stats,analytics; do
    svc=${spec%%:*}
    schemas=${spec#*:}
    pw=$(cat "/run/sesshu/secrets/db-$svc.pw")
    { printf '\\set pw %s\n' "$pw"; cat /sesshu/roles.sql; } |
        psql -X -v ON_ERROR_STOP=1 -q --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
            -v svc="$svc" -v schemas="$schemas" -f -
done
