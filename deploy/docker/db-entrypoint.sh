#!/bin/sh
# deploy/docker/db-entrypoint.sh - entrypoint of the Dockerfile's `postgres` stage: Debian's
# postgresql-15 with the interface of the postgres:15-bookworm image that docker-compose.yml
# names, as far as the stack uses it. On an empty $PGDATA: initdb as `postgres` with the password
# of POSTGRES_PASSWORD_FILE and POSTGRES_INITDB_ARGS, clients over TCP by
# POSTGRES_HOST_AUTH_METHOD, POSTGRES_DB created, then each /docker-entrypoint-initdb.d/*.sh (run
# if executable, else sourced) and *.sql against a server on the socket only. Then `postgres`
# with the arguments given (listen_addresses='*' unless they say otherwise), as PID 1.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}" "${PGPORT:=5432}" "${POSTGRES_DB:=postgres}"
POSTGRES_USER=postgres
export PGDATA PGPORT POSTGRES_DB POSTGRES_USER

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pw=${POSTGRES_PASSWORD:-}
    [ -n "${POSTGRES_PASSWORD_FILE:-}" ] && pw=$(cat "$POSTGRES_PASSWORD_FILE")
    [ -n "$pw" ] || { echo "db-entrypoint: no POSTGRES_PASSWORD(_FILE)" >&2; exit 1; }
    pwfile=$(mktemp)
    printf '%s\n' "$pw" >"$pwfile"
    # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of options
    initdb --username=postgres --pwfile="$pwfile" ${POSTGRES_INITDB_ARGS:-} >/dev/null
    rm -f "$pwfile"
    printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
    printf 'host all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >>"$PGDATA/pg_hba.conf"
    pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -p $PGPORT" start >/dev/null
    if [ "$POSTGRES_DB" != postgres ]; then
        psql -X -v ON_ERROR_STOP=1 -q -d postgres -c "CREATE DATABASE \"$POSTGRES_DB\""
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        case $f in
        *.sh)
            echo "db-entrypoint: running $f"
            # shellcheck disable=SC1090 # the image's init scripts
            if [ -x "$f" ]; then "$f"; else . "$f"; fi
            ;;
        *.sql)
            echo "db-entrypoint: running $f"
            psql -X -v ON_ERROR_STOP=1 -q -d "$POSTGRES_DB" -f "$f"
            ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "db-entrypoint: database initialised"
fi
if [ "$#" -gt 0 ] && [ "$1" = postgres ]; then shift; fi
exec postgres -p "$PGPORT" "$@"
