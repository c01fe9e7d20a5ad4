#!/usr/bin/env bash
# scripts/ha/cluster.sh - a highly available PostgreSQL 15 on loopback with pg_auto_failover
# (Debian's postgresql-15-auto-failover): a monitor and two nodes, one primary and one
# synchronous standby (replication quorum: a commit waits for the standby), automatic failover.
#
#   cluster.sh up       create (first time) and start the monitor and both nodes; wait until one
#                       node is primary and the other secondary; create the sesshu database
#   cluster.sh down     stop everything it started (by PID); the directory stays
#   cluster.sh destroy  down, then remove the directory
#   cluster.sh state    pg_autoctl show state
#   cluster.sh conninfo the multi-host SESSHU_DB_HOST / SESSHU_DB_PORT values for the services
#   cluster.sh primary  name of the node that is primary now (node1 or node2)
#   cluster.sh kill NODE    SIGKILL the node's pg_autoctl and its postgres (the machine is lost)
#   cluster.sh start NODE   start a stopped node again (it rejoins as a standby)
#   cluster.sh wait-rejoin  wait until both nodes are in a primary/secondary pair again
#
#   SESSHU_HA_DIR        the cluster's directory (default /tmp/sesshu-ha); reachable by postgres
#   SESSHU_HA_PORT_BASE  monitor on BASE+1, node1 BASE+2, node2 BASE+3 (default 15400)
# Everything listens on 127.0.0.1 only. As root, PostgreSQL and pg_autoctl run as user postgres.
# Internal connections (monitor, replication) are trusted on loopback only; the services' roles
# log in with SCRAM passwords (db/roles.sql through scripts/lib.sh ss_pg_roles).
# shellcheck source-path=SCRIPTDIR
set -uo pipefail

SS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../lib.sh
. "$SS_REPO/scripts/lib.sh"

HA_DIR=${SESSHU_HA_DIR:-/tmp/sesshu-ha}
HA_BASE=${SESSHU_HA_PORT_BASE:-15400}
[[ $HA_BASE =~ ^[0-9]{4,5}$ && $HA_BASE -lt 65000 ]] || ss_die "SESSHU_HA_PORT_BASE must be a port number"
HA_MON_PORT=$((HA_BASE + 1))
SS_MODE=up
SS_RUN=$HA_DIR/run
HA_LOG=$HA_DIR/log
HA_SOCK=$HA_DIR/run/sock
HA_MONITOR_URI="postgres://autoctl_node@127.0.0.1:$HA_MON_PORT/pg_auto_failover?sslmode=disable"

ha_node_port() { case $1 in monitor) echo "$HA_MON_PORT" ;; node1) echo $((HA_BASE + 2)) ;; node2) echo $((HA_BASE + 3)) ;; esac; }
ha_pgdata() { echo "$HA_DIR/$1"; }

# pg_autoctl keeps its configuration and state under XDG directories: inside the cluster's own.
# It starts postgres with its socket in PG_REGRESS_SOCK_DIR and connects to it through PGHOST.
ha_envv() {
    HA_ENV=("$(command -v env)" HOME="$HA_DIR/home" XDG_CONFIG_HOME="$HA_DIR/home/config"
        XDG_DATA_HOME="$HA_DIR/home/data" XDG_RUNTIME_DIR="$HA_DIR/home/runtime"
        PG_REGRESS_SOCK_DIR="$HA_SOCK" PGHOST="$HA_SOCK" PATH="$SS_PGBIN:$PATH")
}
ha_as_pg() { ss_as_pg "$@"; }
ha_ctl() { ha_envv; ha_as_pg "${HA_ENV[@]}" pg_autoctl "$@"; }

ha_prepare() {
    mkdir -p "$HA_DIR" "$SS_RUN" "$HA_LOG" "$HA_SOCK" "$HA_DIR/home/config" "$HA_DIR/home/data" "$HA_DIR/home/runtime"
    chmod 711 "$HA_DIR"
    chmod 755 "$SS_RUN"
    chmod 700 "$HA_DIR/home/runtime"
    ss_is_root && chown -R postgres: "$HA_SOCK" "$HA_DIR/home" "$HA_LOG"
    ss_is_root && chown postgres: "$HA_DIR"
    command -v pg_autoctl >/dev/null || { ss_err "pg_autoctl not found: apt-get install postgresql-15-auto-failover"; return 1; }
}

# Settings every node gets (included from postgresql.conf through postgresql-auto-failover.conf's
# neighbour): the socket in the cluster's directory; what the server log must not hold.
ha_node_conf() {
    local pgdata=$1
    grep -q "include_if_exists = 'sesshu.conf'" "$pgdata/postgresql.conf" 2>/dev/null ||
        echo "include_if_exists = 'sesshu.conf'" | ha_as_pg tee -a "$pgdata/postgresql.conf" >/dev/null
    ha_as_pg tee "$pgdata/sesshu.conf" >/dev/null <<CONF
# Written by scripts/ha/cluster.sh.
unix_socket_directories = '$HA_SOCK'
password_encryption = 'scram-sha-256'
max_connections = 300
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'UTC'
timezone = 'UTC'
log_error_verbosity = terse
log_min_error_statement = panic
CONF
}

# pg_hba.conf, replacing initdb's trust-everything: the postgres user by peer on the socket;
# pg_autoctl's own users (replication, health checks, pg_rewind) trusted on loopback only; the
# services' roles with SCRAM passwords.
ha_node_hba() {
    local pgdata=$1 db=$SS_DB_NAME
    grep -q '^# sesshu: written by scripts/ha/cluster.sh' "$pgdata/pg_hba.conf" && return 0
    ha_as_pg tee "$pgdata/pg_hba.conf" >/dev/null <<HBA
# sesshu: written by scripts/ha/cluster.sh
local all all peer
local replication all peer
host replication "pgautofailover_replicator" 127.0.0.1/32 trust
host "$db" "pgautofailover_replicator" 127.0.0.1/32 trust
host all "pgautofailover_monitor" 127.0.0.1/32 trust
host "$db" "postgres" 127.0.0.1/32 trust
host "$db" all 127.0.0.1/32 scram-sha-256
HBA
}

ha_run() { # ha_run NAME: spawn pg_autoctl run for the monitor or a node
    local name=$1 pid
    if pid=$(ss_pid_of "ha-$name" "pg_autoctl"); then
        ss_log "$name already running (pid $pid)"
        return 0
    fi
    ha_envv
    if ss_is_root; then
        ss_spawn "ha-$name" "$HA_LOG/$name.log" setpriv --reuid=postgres --regid=postgres --init-groups -- \
            "${HA_ENV[@]}" pg_autoctl run --pgdata "$(ha_pgdata "$name")"
    else
        ss_spawn "ha-$name" "$HA_LOG/$name.log" "${HA_ENV[@]}" pg_autoctl run --pgdata "$(ha_pgdata "$name")"
    fi
}

ha_psql() { # ha_psql PORT DB ARGS...
    local port=$1 db=$2
    shift 2
    PGOPTIONS='-c client_min_messages=warning' ha_as_pg "$SS_PGBIN/psql" -X -h "$HA_SOCK" -p "$port" \
        -d "$db" -v ON_ERROR_STOP=1 -qAt "$@"
}

ha_wait_sql() { # ha_wait_sql PORT DB TIMEOUT_S : until the server answers
    local i
    for ((i = 0; i < $3 * 5; i++)); do
        ha_psql "$1" "$2" -c 'SELECT 1' >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}

ha_monitor_up() {
    local pgdata
    pgdata=$(ha_pgdata monitor)
    if [[ ! -f $pgdata/PG_VERSION ]]; then
        ss_log "creating the pg_auto_failover monitor on 127.0.0.1:$HA_MON_PORT"
        ha_ctl create monitor --pgdata "$pgdata" --pgport "$HA_MON_PORT" --hostname 127.0.0.1 \
            --listen 127.0.0.1 --auth trust --no-ssl >"$HA_LOG/create-monitor.log" 2>&1 ||
            { ss_log_tail "$HA_LOG/create-monitor.log"; ss_err "pg_autoctl create monitor failed"; return 1; }
        ha_node_conf "$pgdata"
        # Failover within seconds of losing the primary, not the defaults' ~30 s: health checks
        # every second, a node unhealthy after 3 s without a report, a 3 s fence for the old primary.
        ha_as_pg tee -a "$pgdata/sesshu.conf" >/dev/null <<CONF
pgautofailover.health_check_period = 1000
pgautofailover.health_check_timeout = 1000
pgautofailover.health_check_max_retries = 1
pgautofailover.health_check_retry_delay = 500
pgautofailover.node_considered_unhealthy_timeout = 3000
pgautofailover.primary_demote_timeout = 3000
CONF
    fi
    ha_run monitor || return 1
    ha_wait_sql "$HA_MON_PORT" pg_auto_failover 60 ||
        { ss_log_tail "$HA_LOG/monitor.log"; ss_err "the monitor did not start"; return 1; }
}

ha_node_up() {
    local name=$1 pgdata port
    pgdata=$(ha_pgdata "$name")
    port=$(ha_node_port "$name")
    if [[ ! -f $pgdata/PG_VERSION ]]; then
        ss_log "creating $name on 127.0.0.1:$port"
        ha_ctl create postgres --pgdata "$pgdata" --pgport "$port" --hostname 127.0.0.1 \
            --listen 127.0.0.1 --name "$name" --dbname "$SS_DB_NAME" --monitor "$HA_MONITOR_URI" \
            --auth trust --no-ssl --replication-quorum true --candidate-priority 50 \
            >"$HA_LOG/create-$name.log" 2>&1 ||
            { ss_log_tail "$HA_LOG/create-$name.log"; ss_err "pg_autoctl create postgres ($name) failed"; return 1; }
        if [[ -f $pgdata/PG_VERSION ]]; then
            ha_node_conf "$pgdata"
            ha_node_hba "$pgdata"
        fi
    fi
    ha_run "$name"
}

# ha_states: "node1 primary primary\nnode2 secondary secondary": name, reported, assigned state.
ha_states() {
    ha_psql "$HA_MON_PORT" pg_auto_failover -F ' ' -c \
        "SELECT nodename, reportedstate, goalstate FROM pgautofailover.node ORDER BY nodename" 2>/dev/null
}
# The node that takes writes now: assigned a primary's state by the monitor and in it (a dead
# primary still shows its last reported state, but its assigned state has moved on).
ha_primary() {
    ha_states | awk '$2 == $3 && ($2 == "primary" || $2 == "wait_primary" || $2 == "single") {print $1}' | head -n 1
}

ha_wait_pair() { # until one primary and one secondary, or TIMEOUT_S
    local i s
    for ((i = 0; i < $1 * 2; i++)); do
        s=$(ha_states | awk '$2 == $3 {print $2}' | sort | tr '\n' ' ')
        [[ $s == "primary secondary " ]] && return 0
        sleep 0.5
    done
    ss_err "no primary/secondary pair after $1 s: $(ha_states | tr '\n' ' ')"
    return 1
}

ha_up() {
    ha_prepare || return 1
    ha_monitor_up || return 1
    ha_node_up node1 || return 1
    # The first node becomes primary ("single") before the second one is made from it.
    local i
    for ((i = 0; i < 240; i++)); do
        [[ -n $(ha_primary) ]] && break
        sleep 0.5
    done
    [[ -n $(ha_primary) ]] || { ss_log_tail "$HA_LOG/node1.log"; ss_err "node1 did not become primary"; return 1; }
    # The first node's configuration files were written before its first start: restart once
    # is not needed, pg_autoctl runs postgres with them.
    ha_node_up node2 || return 1
    ha_wait_pair 180 || { ss_log_tail "$HA_LOG/node2.log"; return 1; }
    ss_log "cluster up: $(ha_states | tr '\n' ' ')"
}

ha_node_pids() { # every process of NODE: pg_autoctl's group and the postmaster with its children
    local name=$1 pid pm
    pid=$(ss_pid_of "ha-$name" pg_autoctl) && ps -o pid= -g "$(ps -o pgid= -p "$pid" | tr -d ' ')" 2>/dev/null
    pm=$(head -n 1 "$(ha_pgdata "$name")/postmaster.pid" 2>/dev/null)
    if [[ $pm =~ ^[0-9]+$ ]] && ss_alive "$pm" && tr '\0' ' ' <"/proc/$pm/cmdline" | grep -q postgres; then
        echo "$pm"
        ps -o pid= --ppid "$pm" 2>/dev/null
    fi
}

ha_kill() {
    local name=$1 pids
    pids=$(ha_node_pids "$name" | sort -u | tr '\n' ' ')
    [[ -n ${pids// /} ]] || { ss_err "$name is not running"; return 1; }
    # shellcheck disable=SC2086 # a list of PIDs
    kill -KILL $pids 2>/dev/null
    rm -f "$SS_RUN/ha-$name.pid"
    ss_log "SIGKILL to $name (pids $pids)"
}

ha_stop() {
    local name=$1
    ss_stop "ha-$name" pg_autoctl TERM 60
}

ha_down() {
    ha_stop node2
    ha_stop node1
    ha_stop monitor
}

case ${1:-} in
    up) ha_up ;;
    down) ha_down ;;
    destroy) ha_down && rm -rf "$HA_DIR" ;;
    state) ha_ctl show state --pgdata "$(ha_pgdata monitor)" ;;
    conninfo) echo "SESSHU_DB_HOST=127.0.0.1,127.0.0.1 SESSHU_DB_PORT=$(ha_node_port node1),$(ha_node_port node2)" ;;
    primary) ha_primary ;;
    kill) ha_kill "${2:?node}" ;;
    start) [[ -f $(ha_pgdata "${2:?node}")/PG_VERSION ]] || ss_die "no node $2 in $HA_DIR"; ha_prepare && ha_run "$2" ;;
    wait-rejoin) ha_wait_pair "${2:-120}" ;;
    *) echo "usage: $0 up|down|destroy|state|conninfo|primary|kill NODE|start NODE|wait-rejoin [S]" >&2; exit 2 ;;
esac
