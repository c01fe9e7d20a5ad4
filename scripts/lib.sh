# shellcheck shell=bash
# scripts/lib.sh - the pieces up.sh, down.sh and test.sh share: runtime directory, secrets,
# the service environment (env.sh), PostgreSQL, the SMTP sink, the services and the gateway.
#
# Sourced, never run. Functions print 'error: ...' and return 1 on failure (they never exit:
# test.sh must go on to stop what was started). The caller sets SS_REPO (repository root, absolute), then calls
# ss_profile up|test and ss_init RUNTIME_DIR. A profile fixes:
#   SS_MODE      up: processes outlive the script; test: children of the script
#   SS_PG_PORT SS_SMTP_PORT SS_GW_PORT SS_PORT_BASE   (service port = its registry port - 8100 + SS_PORT_BASE)
#   SS_BIN_DIR   build directory whose services/<svc>/sesshu-<svc> binaries run (build/, or
#                build-asan/ for test; SESSHU_BUILD_DIR / SESSHU_ASAN_BUILD_DIR override them)
# Every process started here is recorded as RUNTIME_DIR/run/<name>.pid and stopped by that PID.

SS_PGBIN=/usr/lib/postgresql/15/bin
SS_DB_NAME=sesshu
# The services, their ports and schemas: services/registry.tsv (in port order).
SS_ALL_SERVICES=()
declare -gA SS_SVC_PORT=() SS_SVC_SCHEMAS=()
while read -r _n _p _s _rest; do
    [[ -z $_n || $_n == \#* ]] && continue
    SS_ALL_SERVICES+=("$_n")
    SS_SVC_PORT[$_n]=$_p
    SS_SVC_SCHEMAS[$_n]=$_s
done <"${SS_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}/services/registry.tsv"
unset _n _p _s _rest

ss_log() { printf '==> %s\n' "$*" >&2; }
ss_warn() { printf 'warning: %s\n' "$*" >&2; }
ss_err() { printf 'error: %s\n' "$*" >&2; }
ss_die() {
    ss_err "$@"
    exit 1
}

ss_is_root() { [[ $(id -u) -eq 0 ]]; }

# Random string of [A-Za-z0-9] with at least one upper, lower and digit (no pipes: a SIGPIPE
# under pipefail would fail the caller).
ss_rand() {
    local n=$1 s=
    while :; do
        s=$(LC_ALL=C tr -dc 'A-Za-z0-9' < <(head -c $((n * 8)) /dev/urandom))
        s=${s:0:n}
        [[ ${#s} -eq $n && $s =~ [A-Z] && $s =~ [a-z] && $s =~ [0-9] ]] && break
    done
    printf '%s' "$s"
}

# --- services and ports -------------------------------------------------------------------

# A service's port on this stack: its registry port moved by the profile's base (8100 + the
# test offset).
ss_svc_port() { echo $((SS_PORT_BASE - 8100 + ${SS_SVC_PORT[$1]:?unknown service $1})); }
ss_svc_schemas() { echo "${SS_SVC_SCHEMAS[$1]:?unknown service $1}"; }
ss_svc_bin() { echo "$SS_BIN_DIR/services/$1/sesshu-$1"; }
ss_upper() { printf '%s' "$1" | tr '[:lower:]' '[:upper:]'; }

# Services that exist in the tree, audit first: its migrations create the access log every
# other service writes to.
ss_services() {
    local s
    [[ -f $SS_REPO/services/audit/CMakeLists.txt ]] && echo audit
    for s in "${SS_ALL_SERVICES[@]}"; do
        [[ $s != audit && -f $SS_REPO/services/$s/CMakeLists.txt ]] && echo "$s"
    done
    return 0
}

# --- processes ------------------------------------------------------------------------------

# Running and not a zombie (a zombie still answers kill -0).
ss_alive() {
    local pid=$1 stat
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# PID recorded for name, if that process is alive and still runs what we started (a recycled
# PID of some other program is never signalled).
ss_pid_of() {
    local name=$1 match=$2 pid
    pid=$(cat "$SS_RUN/$name.pid" 2>/dev/null) || return 1
    ss_alive "$pid" || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$match" || return 1
    echo "$pid"
}

ss_port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ss_spawn NAME LOG CMD... : start CMD with stdout/stderr appended to LOG, PID in run/NAME.pid.
# up: in a session of its own so it outlives the script and the terminal; test: a child of the
# script (reaped by it). The inner bash writes its own PID and execs, so the PID is CMD's.
ss_spawn() {
    local name=$1 log=$2 pidfile=$SS_RUN/$1.pid i
    shift 2
    rm -f "$pidfile"
    # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
    if [[ $SS_MODE == up ]]; then
        setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >>"$log" 2>&1 </dev/null &
    else
        bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >>"$log" 2>&1 </dev/null &
    fi
    disown
    for i in $(seq 1 50); do
        [[ -s $pidfile ]] && return 0
        sleep 0.1
    done
    ss_err "$name did not start"
    return 1
}

# ss_stop NAME MATCH SIGNAL TIMEOUT_S : signal, wait for the exit (LeakSanitizer reports at
# exit, so a sanitised service must be waited for), SIGKILL only past the timeout.
ss_stop() {
    local name=$1 match=$2 sig=$3 timeout=$4 pid i
    if ! pid=$(ss_pid_of "$name" "$match"); then
        rm -f "$SS_RUN/$name.pid"
        return 0
    fi
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
        ss_alive "$pid" || break
        sleep 0.1
    done
    if ss_alive "$pid"; then
        ss_warn "$name (pid $pid) did not stop within ${timeout}s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.2
    fi
    rm -f "$SS_RUN/$name.pid"
}

ss_log_tail() {
    local log=$1
    [[ -f $log ]] || return 0
    printf -- '--- last lines of %s ---\n' "$log" >&2
    tail -n "${2:-40}" "$log" >&2
    printf -- '---\n' >&2
}

# --- runtime directory ----------------------------------------------------------------------

ss_pg_user() { if ss_is_root; then echo postgres; else id -un; fi; }
# From / : the clone may be a directory the postgres user cannot enter (psql would complain).
ss_as_pg() {
    if ss_is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

ss_profile() {
    case $1 in
        up)
            SS_MODE=up SS_PG_PORT=5433 SS_SMTP_PORT=2525 SS_GW_PORT=8080 SS_PORT_BASE=8100
            SS_BIN_DIR=${SESSHU_BUILD_DIR:-$SS_REPO/build}
            ;;
        test)
            # SESSHU_TEST_PORT_OFFSET moves every port, so two test stacks can run side by side.
            local off=${SESSHU_TEST_PORT_OFFSET:-0}
            [[ $off =~ ^[0-9]{1,4}$ && $off -le 9000 ]] || ss_die "SESSHU_TEST_PORT_OFFSET must be 0..9000"
            SS_MODE=test SS_PG_PORT=$((15433 + off)) SS_SMTP_PORT=$((12525 + off))
            SS_GW_PORT=$((18080 + off)) SS_PORT_BASE=$((18100 + off))
            SS_BIN_DIR=${SESSHU_ASAN_BUILD_DIR:-$SS_REPO/build-asan}
            ;;
        *) ss_die "unknown profile $1" ;;
    esac
}

ss_init() {
    SS_VAR=$1
    SS_RUN=$SS_VAR/run
    SS_LOGDIR=$SS_VAR/log
    SS_SECRETS=$SS_VAR/secrets
    SS_KEYS=$SS_VAR/keys
    SS_MAIL=$SS_VAR/mail
    SS_PGDATA=$SS_VAR/pg/data
    SS_PGSOCK=$SS_VAR/run/pg
    SS_ENV_FILE=$SS_VAR/env.sh
    SS_GW_DIR=$SS_VAR/nginx
}

# Directories, with PostgreSQL's own owned by the database user. The runtime root must be
# traversable by that user (mode 711; nothing in it is world-readable that matters).
ss_prepare_var() {
    local pg_user
    pg_user=$(ss_pg_user)
    mkdir -p "$SS_VAR"
    chmod 711 "$SS_VAR"
    mkdir -p "$SS_RUN" "$SS_LOGDIR" "$SS_SECRETS" "$SS_KEYS" "$SS_MAIL" "$SS_VAR/pg" "$SS_PGSOCK" "$SS_GW_DIR"
    chmod 700 "$SS_SECRETS"
    chmod 755 "$SS_RUN" "$SS_VAR/pg"
    if ss_is_root; then
        chown "$pg_user:" "$SS_PGSOCK"
        runuser -u "$pg_user" -- test -x "$SS_PGSOCK" ||
            { ss_err "user $pg_user cannot reach $SS_VAR (a parent directory is closed to it)"; return 1; }
    fi
}

# up.sh only: REPO/var, or a symlink to /var/tmp/sesshu-<hash of the path> when the repository
# is somewhere the postgres user cannot traverse (a clone under /root).
ss_choose_up_var() {
    local repo=$1 real hash
    if [[ -L $repo/var ]]; then
        real=$(readlink -f "$repo/var")
        mkdir -p "$real"
        echo "$real"
        return 0
    fi
    if ! ss_is_root || runuser -u postgres -- test -x "$repo"; then
        echo "$repo/var"
        return 0
    fi
    hash=$(printf '%s' "$repo" | sha256sum)
    real=/var/tmp/sesshu-${hash:0:12}
    if [[ -e $repo/var ]]; then
        rmdir "$repo/var" 2>/dev/null ||
            { ss_err "$repo/var exists, but user postgres cannot reach it; move it away and rerun"; return 1; }
    fi
    mkdir -p "$real"
    ln -s "$real" "$repo/var"
    echo "$real"
}

# --- secrets and environment ----------------------------------------------------------------

ss_secret_file() {
    local file=$1 value=$2
    [[ -s $file ]] && return 0
    (
        umask 077
        printf '%s\n' "$value" >"$file.tmp"
    )
    mv -f "$file.tmp" "$file"
}

# ss_make_keypair FILE OWNER : an EC P-256 signing key in FILE (kept if present) and its public
# key in the keys directory as OWNER-<kid>.pem, which every service reads (and rescans when it
# meets an unknown key id). The owner is the issuing service: a service accepts each kind of
# token only from its issuer's keys (libs/common jwt.h).
ss_make_keypair() {
    local key=$1 owner=$2 kid pub
    if [[ ! -s $key ]]; then
        (
            umask 077
            openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$key.tmp" 2>/dev/null
        ) || { ss_err "openssl could not generate the signing key"; return 1; }
        mv -f "$key.tmp" "$key"
    fi
    chmod 600 "$key"
    # The public key's file name is its owner and key id (a hash of the key, stable across runs).
    kid=$(openssl pkey -in "$key" -pubout -outform DER 2>/dev/null | sha256sum) ||
        { ss_err "openssl cannot read $key"; return 1; }
    pub=$SS_KEYS/$owner-${kid:0:16}.pem
    rm -f "$SS_KEYS/${kid:0:16}.pem" # the unowned name of earlier runs
    [[ -s $pub ]] || openssl pkey -in "$key" -pubout -out "$pub" 2>/dev/null ||
        { ss_err "openssl cannot write $pub"; return 1; }
    chmod 644 "$pub"
}

ss_make_secrets() {
    local svc
    for svc in $(ss_services); do
        ss_secret_file "$SS_SECRETS/db-$svc.pw" "$(ss_rand 32)"
    done
    ss_secret_file "$SS_SECRETS/admin-password" "$(ss_rand 20)"
    # records: the 個人番号 is sealed with one key (AES-256-GCM) and found through a keyed hash
    # (HMAC-SHA256) under another; 64 hex characters each.
    ss_secret_file "$SS_SECRETS/records-mynumber.key" "$(openssl rand -hex 32)"
    ss_secret_file "$SS_SECRETS/records-mynumber-hmac.key" "$(openssl rand -hex 32)"
    # Session tokens (account) and API client tokens (token) are signed by different keys.
    ss_make_keypair "$SS_SECRETS/jwt-signing.pem" account || return 1
    ss_make_keypair "$SS_SECRETS/token-signing.pem" token || return 1
    # certificate: its service tokens (to the records service's internal feed) have a key of
    # their own; the SMART Health Card issuer's key is another, never among the session keys
    # (its public key is published at /shc/.well-known/jwks.json by the service itself).
    ss_make_keypair "$SS_SECRETS/certificate-service.pem" certificate || return 1
    # stats: its service tokens (to the records service's feed) have a key of their own; the
    # person key of its pseudonymised tables is a keyed hash under another secret.
    ss_make_keypair "$SS_SECRETS/stats-service.pem" stats || return 1
    # payment: its service tokens (to the records service's claims feed), a key of its own.
    ss_make_keypair "$SS_SECRETS/payment-service.pem" payment || return 1
    ss_secret_file "$SS_SECRETS/stats-pseudonym.key" "$(openssl rand -hex 32)"
    # audit: signs the access log's checkpoints (services/audit/logs_proof.c).
    ss_make_keypair "$SS_SECRETS/audit-signing.pem" audit || return 1
    if [[ ! -s $SS_SECRETS/shc-issuer.pem ]]; then
        (
            umask 077
            openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
                -out "$SS_SECRETS/shc-issuer.pem.tmp" 2>/dev/null
        ) || { ss_err "openssl could not generate the SHC issuer key"; return 1; }
        mv -f "$SS_SECRETS/shc-issuer.pem.tmp" "$SS_SECRETS/shc-issuer.pem"
    fi
    mkdir -p "$SS_SECRETS/shc-old-keys"
}

# var/env.sh: everything a service needs, sourceable by sh. Secrets stay in files (*_FILE).
ss_write_env() {
    local svc up tmp=$SS_ENV_FILE.tmp issuer=$1
    {
        echo "# Generated by scripts/lib.sh ($SS_MODE stack); sourced before starting a service."
        echo "export SESSHU_BIND='127.0.0.1'"
        for svc in "${SS_ALL_SERVICES[@]}"; do
            echo "export SESSHU_$(ss_upper "$svc")_PORT='$(ss_svc_port "$svc")'"
        done
        # account's GET /me asks the notice service for the unread count.
        echo "export SESSHU_NOTICE_URL='http://127.0.0.1:$(ss_svc_port notice)'"
        echo "export SESSHU_DB_HOST='127.0.0.1'"
        echo "export SESSHU_DB_PORT='$SS_PG_PORT'"
        echo "export SESSHU_DB_NAME='$SS_DB_NAME'"
        for svc in $(ss_services); do
            up=$(ss_upper "$svc")
            echo "export SESSHU_${up}_DB_USER='sesshu_$svc'"
            echo "export SESSHU_${up}_DB_PASSWORD_FILE='$SS_SECRETS/db-$svc.pw'"
        done
        # Each issuer its own key (libs/common server.c); the other services hold none.
        echo "export SESSHU_ACCOUNT_SIGNING_KEY_FILE='$SS_SECRETS/jwt-signing.pem'"
        echo "export SESSHU_TOKEN_SIGNING_KEY_FILE='$SS_SECRETS/token-signing.pem'"
        echo "export SESSHU_JWT_PUBLIC_KEY_DIR='$SS_KEYS'"
        echo "export SESSHU_JWT_ISSUER='$issuer'"
        echo "export SESSHU_SMTP_URL='smtp://127.0.0.1:$SS_SMTP_PORT'"
        echo "export SESSHU_MAIL_FROM='no-reply@sesshu.local'"
        echo "export SESSHU_RESET_URL='$issuer/reset-password#token='"
        echo "export SESSHU_ADMIN_PASSWORD_FILE='$SS_SECRETS/admin-password'"
        echo "export SESSHU_RECORDS_MYNUMBER_KEY_FILE='$SS_SECRETS/records-mynumber.key'"
        echo "export SESSHU_RECORDS_MYNUMBER_HMAC_KEY_FILE='$SS_SECRETS/records-mynumber-hmac.key'"
        echo "export SESSHU_CERTIFICATE_SIGNING_KEY_FILE='$SS_SECRETS/certificate-service.pem'"
        echo "export SESSHU_AUDIT_SIGNING_KEY_FILE='$SS_SECRETS/audit-signing.pem'"
        # audit: the gateway's own refusals (429, 413, ...) into the access log.
        echo "export SESSHU_AUDIT_GATEWAY_LOG='$SS_LOGDIR/gateway-access.log'"
        echo "export SESSHU_CERTIFICATE_SHC_KEY_FILE='$SS_SECRETS/shc-issuer.pem'"
        echo "export SESSHU_CERTIFICATE_SHC_KEY_DIR='$SS_SECRETS/shc-old-keys'"
        echo "export SESSHU_STATS_SIGNING_KEY_FILE='$SS_SECRETS/stats-service.pem'"
        echo "export SESSHU_STATS_PSEUDONYM_KEY_FILE='$SS_SECRETS/stats-pseudonym.key'"
        echo "export SESSHU_PAYMENT_SIGNING_KEY_FILE='$SS_SECRETS/payment-service.pem'"
    } >"$tmp"
    chmod 600 "$tmp"
    mv -f "$tmp" "$SS_ENV_FILE"
}

# --- PostgreSQL -----------------------------------------------------------------------------

ss_psql_super() {
    PGOPTIONS='-c client_min_messages=warning' ss_as_pg "$SS_PGBIN/psql" -X -h "$SS_PGSOCK" -p "$SS_PG_PORT" -U "$(ss_pg_user)" \
        -v ON_ERROR_STOP=1 -qAt "$@"
}

ss_pg_init() {
    local pwfile
    if [[ ! -f $SS_PGDATA/PG_VERSION ]]; then
        ss_log "initialising a PostgreSQL 15 cluster in $SS_PGDATA"
        rm -rf "$SS_PGDATA"
        mkdir -p "$SS_PGDATA"
        chmod 700 "$SS_PGDATA"
        ss_is_root && chown "$(ss_pg_user):" "$SS_PGDATA"
        # The superuser gets a random password nobody keeps: it logs in by peer over the socket.
        pwfile=$(ss_as_pg mktemp)
        ss_rand 32 | ss_as_pg tee "$pwfile" >/dev/null
        ss_as_pg "$SS_PGBIN/initdb" -D "$SS_PGDATA" -U "$(ss_pg_user)" --pwfile="$pwfile" \
            --encoding=UTF8 --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256 \
            >"$SS_LOGDIR/initdb.log" 2>&1 || {
            ss_as_pg rm -f "$pwfile"
            ss_log_tail "$SS_LOGDIR/initdb.log"
            ss_err "initdb failed"
            return 1
        }
        ss_as_pg rm -f "$pwfile"
        echo "include_if_exists = 'sesshu.conf'" | ss_as_pg tee -a "$SS_PGDATA/postgresql.conf" >/dev/null
    fi
    # Rewritten at every start, so the port and socket follow the runtime directory.
    ss_as_pg tee "$SS_PGDATA/sesshu.conf" >/dev/null <<EOF
# Written by scripts/lib.sh at every start.
listen_addresses = '127.0.0.1'
port = $SS_PG_PORT
unix_socket_directories = '$SS_PGSOCK'
password_encryption = 'scram-sha-256'
fsync = on
synchronous_commit = on
max_connections = 200
shared_buffers = 256MB
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'UTC'
timezone = 'UTC'
# The server log holds no personal data: an error's DETAIL (a unique key's value: the keyed
# hash of a 個人番号, a resident number, a login id) and the failing statement stay out of it.
log_error_verbosity = terse
log_min_error_statement = panic
EOF
}

ss_pg_ready() {
    "$SS_PGBIN/pg_isready" -q -h "$SS_PGSOCK" -p "$SS_PG_PORT" -U "$(ss_pg_user)" -d postgres -t 2 >/dev/null 2>&1
}

ss_pg_start() {
    local pid i log=$SS_LOGDIR/postgresql.log
    if pid=$(ss_pid_of postgres "$SS_PGBIN/postgres"); then
        ss_log "PostgreSQL already running (pid $pid)"
        return 0
    fi
    ss_port_busy "$SS_PG_PORT" && { ss_err "port $SS_PG_PORT is taken by another program"; return 1; }
    ss_log "starting PostgreSQL on 127.0.0.1:$SS_PG_PORT"
    # setpriv execs (runuser would fork and keep a parent): the recorded PID is the postmaster's.
    if ss_is_root; then
        ss_spawn postgres "$log" setpriv --reuid=postgres --regid=postgres --init-groups -- \
            "$SS_PGBIN/postgres" -D "$SS_PGDATA"
    else
        ss_spawn postgres "$log" "$SS_PGBIN/postgres" -D "$SS_PGDATA"
    fi
    for ((i = 0; i < 600; i++)); do
        ss_pg_ready && return 0
        pid=$(cat "$SS_RUN/postgres.pid")
        ss_alive "$pid" || break
        sleep 0.1
    done
    ss_log_tail "$log"
    ss_err "PostgreSQL did not start"
    return 1
}

ss_pg_stop() { ss_stop postgres "$SS_PGBIN/postgres" INT 60; }

# Database and, per service, its login role and schemas (db/roles.sql). The password goes in
# on standard input, not on a command line where ps would show it.
ss_pg_roles() {
    local svc pw
    ss_psql_super -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$SS_DB_NAME'" | grep -q 1 ||
        ss_psql_super -d postgres -c "CREATE DATABASE $SS_DB_NAME" ||
        { ss_err "cannot create database $SS_DB_NAME"; return 1; }
    for svc in $(ss_services); do
        pw=$(cat "$SS_SECRETS/db-$svc.pw")
        [[ $pw =~ ^[A-Za-z0-9]+$ ]] || { ss_err "$SS_SECRETS/db-$svc.pw must be alphanumeric"; return 1; }
        # As text on stdin: the postgres user may not be able to open files in the clone.
        { printf '\\set pw %s\n' "$pw"; cat "$SS_REPO/db/roles.sql"; } |
            ss_psql_super -d "$SS_DB_NAME" -v svc="$svc" -v schemas="$(ss_svc_schemas "$svc")" -f - \
                >/dev/null || { ss_err "db/roles.sql failed for $svc"; return 1; }
    done
}

# --- SMTP sink ------------------------------------------------------------------------------

ss_smtp_start() {
    local pid i log=$SS_LOGDIR/smtp.log
    if pid=$(ss_pid_of smtp smtp_sink.py); then
        ss_log "SMTP sink already running (pid $pid)"
        return 0
    fi
    ss_port_busy "$SS_SMTP_PORT" && { ss_err "port $SS_SMTP_PORT is taken by another program"; return 1; }
    ss_log "starting the SMTP sink on 127.0.0.1:$SS_SMTP_PORT (mail in $SS_MAIL)"
    ss_spawn smtp "$log" /usr/bin/python3 "$SS_REPO/scripts/smtp_sink.py" \
        --port "$SS_SMTP_PORT" --dir "$SS_MAIL"
    for ((i = 0; i < 100; i++)); do
        grep -q 'listening on' "$log" 2>/dev/null && return 0
        ss_alive "$(cat "$SS_RUN/smtp.pid")" || break
        sleep 0.1
    done
    ss_log_tail "$log"
    ss_err "the SMTP sink did not start"
    return 1
}

ss_smtp_stop() { ss_stop smtp smtp_sink.py TERM 10; }

# --- services -------------------------------------------------------------------------------

ss_svc_ready() { curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$1/readyz" 2>/dev/null; }

ss_svc_wait() {
    local svc=$1 timeout=$2 port pid i log=$SS_LOGDIR/$1.log
    port=$(ss_svc_port "$svc")
    for ((i = 0; i < timeout * 5; i++)); do
        ss_svc_ready "$port" && return 0
        pid=$(cat "$SS_RUN/$svc.pid" 2>/dev/null) || break
        ss_alive "$pid" || break
        sleep 0.2
    done
    ss_log_tail "$log"
    if ss_alive "${pid:-}"; then
        ss_warn "$svc is not ready on port $port after ${timeout}s"
    else
        ss_warn "$svc exited while starting"
    fi
    return 1
}

# Start one service (environment: the caller has sourced env.sh). up: a running one is kept,
# unless its binary is newer than its PID file (rebuilt since), then it is restarted.
ss_svc_start() {
    local svc=$1 bin pid port
    bin=$(ss_svc_bin "$svc")
    port=$(ss_svc_port "$svc")
    [[ -x $bin ]] || { ss_err "$bin is missing: build first"; return 1; }
    if pid=$(ss_pid_of "$svc" "sesshu-$svc"); then
        if [[ $bin -nt $SS_RUN/$svc.pid ]]; then
            ss_log "$svc was rebuilt: restarting it"
            ss_svc_stop "$svc"
        else
            ss_log "$svc already running (pid $pid, port $port)"
            return 0
        fi
    fi
    ss_port_busy "$port" && { ss_err "port $port ($svc) is taken by another program"; return 1; }
    ss_log "starting $svc on 127.0.0.1:$port"
    ss_spawn "$svc" "$SS_LOGDIR/$svc.log" "$bin"
}

ss_svc_stop() { ss_stop "$1" "sesshu-$1" TERM 30; }

# audit first, ready, then the others together, then each one ready. Returns non-zero if any
# service did not come up (the log tail was printed).
ss_services_start() {
    local timeout=$1 svc rc=0 others=()
    for svc in $(ss_services); do
        [[ -x $(ss_svc_bin "$svc") ]] || { ss_err "$(ss_svc_bin "$svc") is missing: build first"; return 1; }
    done
    if [[ -f $SS_REPO/services/audit/CMakeLists.txt ]]; then
        ss_svc_start audit
        ss_svc_wait audit "$timeout" || return 1
    fi
    for svc in $(ss_services); do
        [[ $svc == audit ]] && continue
        ss_svc_start "$svc"
        others+=("$svc")
    done
    for svc in "${others[@]}"; do
        ss_svc_wait "$svc" "$timeout" || rc=1
    done
    return "$rc"
}

ss_services_stop() {
    local svc list
    # Reverse order: audit, which the others write to, goes last.
    list=$(ss_services | tac)
    for svc in $list; do ss_svc_stop "$svc"; done
    # Also any of the nine a newer tree no longer has, if a PID file says we started it.
    for svc in "${SS_ALL_SERVICES[@]}"; do ss_svc_stop "$svc"; done
}

# --- gateway --------------------------------------------------------------------------------

# Render deploy/gateway/nginx.conf.template into SS_GW_DIR/nginx.conf. Rates and limits come from
# SESSHU_GW_* in the caller's environment (render.sh documents them and their defaults).
ss_gw_render() {
    local svc
    for svc in "${SS_ALL_SERVICES[@]}"; do
        export "SESSHU_GW_$(ss_upper "$svc")_UPSTREAM=127.0.0.1:$(ss_svc_port "$svc")"
    done
    # The test stack reads its own writes at once: no cache of the public datasets there
    # unless asked (bench/stats.sh).
    [[ $SS_MODE == test ]] && export SESSHU_GW_STATS_CACHE=${SESSHU_GW_STATS_CACHE:-off}
    SESSHU_GW_LISTEN=127.0.0.1:$SS_GW_PORT SESSHU_GW_PREFIX=$SS_GW_DIR \
        SESSHU_GW_ACCESS_LOG=$SS_LOGDIR/gateway-access.log \
        SESSHU_GW_ERROR_LOG=$SS_LOGDIR/gateway-error.log \
        "$SS_REPO/deploy/gateway/render.sh" "$SS_GW_DIR/nginx.conf"
}

# The public statistics page (services/stats/dashboard, bundled from npm) into SS_GW_DIR; the
# gateway serves it at /stats/. Without node and npm the page is missing (404), nothing else.
ss_stats_dashboard() {
    [[ -f $SS_REPO/services/stats/dashboard/build.sh ]] || return 0
    if ! command -v npm >/dev/null; then
        ss_warn "npm not found: the statistics page /stats/ is not built"
        return 0
    fi
    bash "$SS_REPO/services/stats/dashboard/build.sh" "$SS_GW_DIR/stats-dashboard" ||
        ss_warn "the statistics page /stats/ could not be built"
    return 0
}

ss_gw_start() {
    local pid i nginx
    nginx=$(command -v nginx || echo /usr/sbin/nginx)
    ss_stats_dashboard
    ss_gw_render || { ss_err "cannot render the gateway configuration"; return 1; }
    if pid=$(ss_pid_of gateway "nginx"); then
        ss_log "gateway already running (pid $pid): reloading its configuration"
        kill -HUP "$pid"
        return 0
    fi
    ss_port_busy "$SS_GW_PORT" && { ss_err "port $SS_GW_PORT (gateway) is taken by another program"; return 1; }
    ss_log "starting the nginx gateway on 127.0.0.1:$SS_GW_PORT"
    ss_spawn gateway "$SS_LOGDIR/gateway-error.log" "$nginx" -p "$SS_GW_DIR/" \
        -e "$SS_LOGDIR/gateway-error.log" -c "$SS_GW_DIR/nginx.conf" -g 'daemon off;'
    for ((i = 0; i < 100; i++)); do
        curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$SS_GW_PORT/healthz" 2>/dev/null && return 0
        ss_alive "$(cat "$SS_RUN/gateway.pid")" || break
        sleep 0.1
    done
    ss_log_tail "$SS_LOGDIR/gateway-error.log"
    ss_err "the gateway did not start"
    return 1
}

# QUIT: graceful, the buffered access log is flushed.
ss_gw_stop() { ss_stop gateway nginx QUIT 15; }

# Everything this runtime directory's PID files name, in reverse start order.
ss_stop_all() {
    ss_gw_stop
    ss_services_stop
    ss_smtp_stop
    ss_pg_stop
}
