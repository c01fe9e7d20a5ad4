#!/usr/bin/env bash
# tests/failover/failover.sh - PostgreSQL loses its primary under write load (issue 15 §2).
#
# Starts the HA cluster (scripts/ha/cluster.sh: pg_auto_failover, a primary and a synchronous
# standby), then the services and the gateway (scripts/lib.sh, test profile: the ports of
# SESSHU_TEST_PORT_OFFSET) with SESSHU_DB_HOST/SESSHU_DB_PORT listing both nodes. Under a write
# load (tests/fault/load.mjs: persons created at the records service, each with its own request
# id), the primary's pg_autoctl and postgres are killed with SIGKILL (the machine is lost). The
# load goes on while the standby is promoted and the services' pools and access-log writers
# redial the list. Then the old primary is started again and must rejoin as the standby.
# Checks (tests/fault/access_log_fault.sh fault_verdict, against the new primary): no write
# answered 201 is missing, every change has its access-log row and no row lacks its change, the
# hash chain verifies; the rejoined node holds every acknowledged person too; every 503 carries
# Retry-After; an analytics read runs on the standby and shows its lag. Prints the
# figures: how long writes failed (first and last failure after the kill), time to the first 201
# on the new primary, the answers, the time to rejoin.
# Bounded: every wait has a timeout; the whole run takes about two minutes.
#   SESSHU_TEST_TMPDIR  where its throwaway directory is made (default /tmp)
#   SESSHU_HA_PORT_BASE the cluster's ports (scripts/ha/cluster.sh; default 15400)
#   SESSHU_TEST_KEEP=1  keep the directory
#   SESSHU_FAILOVER_MAX_WINDOW_S  fail if writes failed longer than this (default 60)
# Exit 0: passed; 1: failed; 77: skipped (pg_autoctl missing), with the reason on stdout.
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2317 # cleanup runs from the EXIT trap
set -uo pipefail

SS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../scripts/lib.sh
. "$SS_REPO/scripts/lib.sh"
# shellcheck source=../fault/access_log_fault.sh
. "$SS_REPO/tests/fault/access_log_fault.sh"
ss_profile test
cd "$SS_REPO" || exit 1

command -v pg_autoctl >/dev/null || { echo "skipped: pg_autoctl not found (Debian package postgresql-15-auto-failover)"; exit 77; }
for b in node "$(ss_svc_bin records)"; do
    command -v "$b" >/dev/null || { echo "failover test: $b missing"; exit 1; }
done

TMP_PARENT=${SESSHU_TEST_TMPDIR:-/tmp}
mkdir -p "$TMP_PARENT" && chmod a+rx "$TMP_PARENT" || exit 1
VAR=$(mktemp -d "$TMP_PARENT/sesshu-failover.XXXXXX") || exit 1
ss_init "$VAR"
export SESSHU_HA_DIR=$VAR/ha
CLUSTER=("$SS_REPO/scripts/ha/cluster.sh")
DIR=$VAR/fault
LOAD_PID=

cleanup() {
    [[ -n $LOAD_PID ]] && { touch "$DIR/stop"; wait "$LOAD_PID" 2>/dev/null; }
    ss_gw_stop
    ss_services_stop
    ss_smtp_stop
    bash "${CLUSTER[@]}" down >/dev/null 2>&1
    if [[ ${SESSHU_TEST_KEEP:-0} == 1 ]]; then
        echo "kept: $VAR"
    else
        rm -rf "$VAR"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ha_port_of() { case $1 in node1) echo $((${SESSHU_HA_PORT_BASE:-15400} + 2)) ;; node2) echo $((${SESSHU_HA_PORT_BASE:-15400} + 3)) ;; esac; }

# ss_psql_super against the node that is primary now.
point_at_primary() {
    local p
    p=$(bash "${CLUSTER[@]}" primary) && [[ -n $p ]] || return 1
    SS_PG_PORT=$(ha_port_of "$p")
    SS_PGSOCK=$SESSHU_HA_DIR/run/sock
}

start_all() {
    ss_prepare_var || return 1
    bash "${CLUSTER[@]}" up || return 1
    ss_make_secrets || return 1
    ss_write_env "http://127.0.0.1:$SS_GW_PORT" || return 1
    # The services list both nodes; libpq keeps the one that takes writes.
    {
        echo "export SESSHU_DB_HOST='127.0.0.1,127.0.0.1'"
        echo "export SESSHU_DB_PORT='$(ha_port_of node1),$(ha_port_of node2)'"
    } >>"$SS_ENV_FILE"
    point_at_primary || return 1
    ss_pg_roles || return 1
    ss_smtp_start || return 1
    # shellcheck source=/dev/null
    . "$SS_ENV_FILE"
    ss_services_start 90 || return 1
    ss_gw_start || return 1
}

# count_status FILE SINCE_MS STATUS: answers with STATUS after SINCE_MS.
count_since() { awk -v t="$2" -v s="$3" '$1 >= t && $2 == s' "$1" | wc -l; }

wait_201s() { # wait_201s SINCE_MS N TIMEOUT_S
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        (($(count_since "$DIR/timeline" "$1" 201) >= $2)) && return 0
        sleep 0.1
    done
    ss_err "fewer than $2 writes answered 201 within $3 s"
    return 1
}

figures() { # the window of failed writes around the kill at $1 (ms)
    local kill_ms=$1 first last first_ok
    first=$(awk -v t="$kill_ms" '$1 >= t && $2 != 201 {print $1; exit}' "$DIR/timeline")
    first_ok=$(awk -v t="${first:-$kill_ms}" '$1 >= t && $2 == 201 {print $1; exit}' "$DIR/timeline")
    last=$(awk -v t="$kill_ms" -v u="${first_ok:-0}" '$1 >= t && $1 <= u && $2 != 201 {l=$1} END {print l}' "$DIR/timeline")
    echo "answers after the kill until writes succeeded again: $(awk -v t="$kill_ms" -v u="${first_ok:-0}" '$1 >= t && $1 <= u {print $2}' "$DIR/timeline" | sort | uniq -c | tr -s ' \n' ' ')"
    if [[ -n $first && -n $last ]]; then
        echo "writes failing: first $((first - kill_ms)) ms after the kill, last $((last - kill_ms)) ms after; window $((last - first)) ms"
    else
        echo "writes failing: none"
    fi
    [[ -n $first_ok ]] && echo "first 201 on the new primary: $((first_ok - kill_ms)) ms after the kill"
    WINDOW_MS=$((${last:-0} - ${first:-0}))
}

run_failover() {
    local rc=0 old new kill_ms t_start rejoin_ms max=${SESSHU_FAILOVER_MAX_WINDOW_S:-60}
    mkdir -p "$DIR"
    : >"$DIR/attempts"
    : >"$DIR/timeline"
    SESSHU_TEST_BASE_URL=http://127.0.0.1:$SS_GW_PORT SESSHU_TEST_ADMIN_PASSWORD=$(cat "$SS_SECRETS/admin-password") \
        FAULT_OUT=$DIR/attempts FAULT_TIMELINE=$DIR/timeline FAULT_STOP=$DIR/stop \
        FAULT_RECORDS_URL=http://127.0.0.1:$(ss_svc_port records) FAULT_WORKERS=4 \
        timeout 400 node tests/fault/load.mjs >"$DIR/load.log" 2>&1 &
    LOAD_PID=$!
    t_start=$(date +%s%3N)
    wait_201s "$t_start" 40 90 || return 1
    old=$(bash "${CLUSTER[@]}" primary)
    [[ -n $old ]] || { ss_err "no primary"; return 1; }
    bash "${CLUSTER[@]}" kill "$old" || return 1
    kill_ms=$(date +%s%3N) # SIGKILL has been sent: every answer after this is from after the loss
    echo "killed the primary $old (pg_autoctl and postgres, SIGKILL) under load"
    wait_201s "$kill_ms" 40 120 || rc=1
    new=$(bash "${CLUSTER[@]}" primary)
    echo "new primary: ${new:-none}"
    [[ -n $new && $new != "$old" ]] || { ss_err "no failover to the standby"; rc=1; }
    # The old primary comes back: pg_autoctl rewinds it and it follows the new primary.
    t_start=$(date +%s%3N)
    bash "${CLUSTER[@]}" start "$old" || rc=1
    if bash "${CLUSTER[@]}" wait-rejoin 180; then
        rejoin_ms=$(($(date +%s%3N) - t_start))
        echo "$old rejoined as the standby ${rejoin_ms} ms after it was started again: $(bash "${CLUSTER[@]}" primary) is primary"
    else
        rc=1
    fi
    wait_201s "$(date +%s%3N)" 20 60 || rc=1
    heavy_read || rc=1
    touch "$DIR/stop"
    wait "$LOAD_PID" || { ss_err "the load failed"; cat "$DIR/load.log"; rc=1; }
    LOAD_PID=
    figures "$kill_ms"
    if ((WINDOW_MS > max * 1000)); then
        ss_err "writes failed for ${WINDOW_MS} ms (more than ${max} s)"
        rc=1
    fi
    # Every 503 tells the client when to come back.
    if awk '($2 == 503 || $2 == 1503) && $3 == "-"' "$DIR/timeline" | grep -q .; then
        ss_err "a 503 without Retry-After"
        rc=1
    fi
    point_at_primary || { ss_err "no primary for the verdict"; return 1; }
    fault_verdict "$DIR" || rc=1
    check_standby "$old" || rc=1
    return "$rc"
}

# A heavy read (analytics) goes to the standby, under write load, with its lag shown.
heavy_read() {
    local out
    out=$(SESSHU_TEST_BASE_URL=http://127.0.0.1:$SS_GW_PORT SESSHU_TEST_ADMIN_PASSWORD=$(cat "$SS_SECRETS/admin-password") \
        timeout 60 node tests/failover/read.mjs 2>&1)
    echo "analytics read:"
    printf '  %s\n' "$out"
    [[ $out == *"source standby"* ]] || { ss_err "the analytics read did not run on the standby"; return 1; }
}

# The rejoined node holds every person the clients were told about (synchronous replication).
check_standby() {
    local node=$1 told have i
    told=$(awk '$3 == 201' "$DIR/attempts" | wc -l)
    for ((i = 0; i < 100; i++)); do
        have=$(SS_PG_PORT=$(ha_port_of "$node") ss_psql_super -d "$SS_DB_NAME" -c \
            "SELECT count(*) FROM records.persons WHERE resident_no LIKE 'FLT-%'" 2>/dev/null)
        [[ ${have:-0} -ge $told ]] && break
        sleep 0.2
    done
    echo "standby $node: $have persons of the run, $told answered 201"
    [[ ${have:-0} -ge $told ]] || { ss_err "the rejoined standby lacks acknowledged writes"; return 1; }
}

if ! start_all; then
    ss_err "the HA stack did not start"
    for log in "$SESSHU_HA_DIR"/log/*.log "$SS_LOGDIR"/*.log; do [[ -f $log ]] && ss_log_tail "$log" 15; done
    exit 1
fi
# The services ran from the ASan build: their logs must hold no sanitizer report.
sanitizer_clean() {
    local svc rc=0
    for svc in $(ss_services); do
        if grep -qE 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$SS_LOGDIR/$svc.log" 2>/dev/null; then
            grep -nE -A30 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$SS_LOGDIR/$svc.log" | head -n 60
            ss_err "$svc: sanitizer report in its log"
            rc=1
        fi
    done
    return "$rc"
}

if run_failover; then
    ss_gw_stop
    ss_services_stop # LeakSanitizer reports at exit
    if sanitizer_clean; then
        echo "failover test passed"
        exit 0
    fi
fi
for log in "$SESSHU_HA_DIR"/log/node*.log "$SS_LOGDIR"/records.log "$SS_LOGDIR"/audit.log; do [[ -f $log ]] && ss_log_tail "$log" 25; done
echo "failover test failed"
exit 1
