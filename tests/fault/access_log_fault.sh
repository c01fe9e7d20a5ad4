# access_log_fault.sh - the access-log fault test (issue 14), sourced by scripts/test.sh once the
# API tests are done, against the test stack (scripts/lib.sh functions, env.sh sourced).
#
# Under a write load (tests/fault/load.mjs: persons created straight at the records service),
# records is killed with SIGKILL and started again, then PostgreSQL crashes (immediate shutdown)
# and recovers; then, with PostgreSQL stopped, records is killed and started again: it must wait for the database (not
# exit) and be ready once PostgreSQL is back, and a logged read must succeed soon after (the
# access-log writer reconnected). Afterwards, for every attempt the client made, whatever it was
# told: the person exists in the database if and only if the access log holds that request's row
# with status 201 (and that row names the person); no attempt has two rows; a client told 201
# has its person, a client told 4xx/5xx has none (1503 in the attempts file: the service said the
# outcome is unknown); the hash chain
# verifies. Bounded: the whole test takes about a minute, each wait has a timeout.
# It signals only the processes this stack started (their PID files).
# shellcheck shell=bash

# fault_kill9 SERVICE: SIGKILL the stack's own SERVICE process.
fault_kill9() {
    local pid
    pid=$(ss_pid_of "$1" "sesshu-$1") || { ss_err "$1 is not running"; return 1; }
    kill -KILL "$pid"
    for _ in $(seq 1 50); do ss_alive "$pid" || break; sleep 0.1; done
    ss_alive "$pid" && { ss_err "$1 (pid $pid) survived SIGKILL"; return 1; }
    # Its listening socket may take a moment to go.
    for _ in $(seq 1 100); do ss_port_busy "$(ss_svc_port "$1")" || return 0; sleep 0.1; done
    ss_err "the port of $1 is still taken after its SIGKILL"
    return 1
}

# fault_more FILE N TIMEOUT_S: wait until FILE has N more lines than now.
fault_more() {
    local file=$1 more=$2 timeout=$3 start i
    start=$(wc -l <"$file" 2>/dev/null || echo 0)
    for ((i = 0; i < timeout * 10; i++)); do
        (($(wc -l <"$file" 2>/dev/null || echo 0) >= start + more)) && return 0
        sleep 0.1
    done
    ss_err "the load made fewer than $more requests in ${timeout}s"
    return 1
}

run_access_log_fault() {
    local dir=$SS_VAR/fault load_pid rc=0 port t0 t1 ready_ms
    mkdir -p "$dir"
    : >"$dir/attempts"
    rm -f "$dir/stop"
    port=$(ss_svc_port records)
    FAULT_OUT=$dir/attempts FAULT_STOP=$dir/stop FAULT_RECORDS_URL=http://127.0.0.1:$port FAULT_WORKERS=4 \
        timeout 300 node tests/fault/load.mjs >"$dir/load.log" 2>&1 &
    load_pid=$!
    fault_more "$dir/attempts" 40 60 || rc=1
    # 1. records killed mid-load, started again.
    [[ $rc -eq 0 ]] && { fault_kill9 records || rc=1; }
    [[ $rc -eq 0 ]] && { ss_svc_start records && ss_svc_wait records 60 || rc=1; }
    [[ $rc -eq 0 ]] && { fault_more "$dir/attempts" 40 60 || rc=1; }
    # 2. PostgreSQL crashes mid-load (immediate shutdown, SIGQUIT: no checkpoint, nothing
    #    flushed on the way out; the start is a crash recovery): what was acknowledged stays.
    [[ $rc -eq 0 ]] && { ss_stop postgres "$SS_PGBIN/postgres" QUIT 60 && ss_pg_start || rc=1; }
    [[ $rc -eq 0 ]] && { fault_more "$dir/attempts" 40 60 || rc=1; }
    # 3. records started while the database is down: it waits, then serves.
    if [[ $rc -eq 0 ]]; then
        ss_pg_stop && fault_kill9 records && ss_svc_start records || rc=1
        sleep 3
        if ! ss_alive "$(cat "$SS_RUN/records.pid" 2>/dev/null)"; then
            ss_err "records exited while the database was down"
            rc=1
        fi
        ss_pg_start || rc=1
        t0=$(date +%s%N)
        ss_svc_wait records 60 || rc=1
        # The load's own requests (logged writes, and the log writer's reads after them) must
        # succeed again within a few seconds of the pool being back.
        fault_more "$dir/attempts" 20 30 || rc=1
        t1=$(date +%s%N)
        ready_ms=$(((t1 - t0) / 1000000))
        echo "records ready and writing again ${ready_ms} ms after PostgreSQL was back"
        if ((ready_ms > 15000)); then
            ss_err "too slow to recover: ${ready_ms} ms"
            rc=1
        fi
    fi
    touch "$dir/stop"
    wait "$load_pid" || { ss_err "the load failed"; cat "$dir/load.log"; rc=1; }
    fault_verdict "$dir" || rc=1
    return "$rc"
}

# fault_verdict DIR: hold every attempt in DIR/attempts (run id from DIR/load.log) against the
# database and the access log (ss_psql_super: the stack's, or the HA cluster's primary). Also
# used by tests/failover/failover.sh.
fault_verdict() {
    local dir=$1 rc=0 run
    run=$(sed -n 's/^muni [0-9]* run \([0-9a-f]*\)$/\1/p' "$dir/load.log")
    [[ -n $run ]] || { ss_err "no run id"; return 1; }
    echo "attempts: $(wc -l <"$dir/attempts"); answers: $(awk '{print $3}' "$dir/attempts" | sort | uniq -c | tr '\n' ' ')"
    # A read of the log after the restarts goes through the group commit: the writer is back.
    {
        echo "CREATE TEMP TABLE attempt (rid text, resident text, told int);"
        echo "COPY attempt FROM STDIN WITH (DELIMITER ' ');"
        cat "$dir/attempts"
        echo '\.'
        cat <<SQL
CREATE TEMP TABLE verdict AS
SELECT a.rid, a.told, p.id AS person_id,
       (SELECT count(*) FROM audit.access_log l WHERE l.request_id = a.rid AND l.service = 'records') AS nrows,
       (SELECT max(l.status) FROM audit.access_log l WHERE l.request_id = a.rid AND l.service = 'records') AS logged,
       (SELECT max(l.res_id) FROM audit.access_log l WHERE l.request_id = a.rid AND l.service = 'records') AS res_id
  FROM attempt a LEFT JOIN records.persons p ON p.resident_no = a.resident;
SELECT 'changed without a 201 row: ' || count(*) FROM verdict
 WHERE person_id IS NOT NULL AND (logged IS DISTINCT FROM 201 OR res_id IS DISTINCT FROM person_id::text);
SELECT 'logged 201 without the change: ' || count(*) FROM verdict WHERE person_id IS NULL AND logged = 201;
SELECT 'more than one row: ' || count(*) FROM verdict WHERE nrows > 1;
SELECT 'told 201 without the change: ' || count(*) FROM verdict WHERE told = 201 AND person_id IS NULL;
SELECT 'told a failure but changed: ' || count(*) FROM verdict
 WHERE told >= 400 AND told <> 1503 AND person_id IS NOT NULL;
SELECT 'persons of the run not attempted: ' || count(*) FROM records.persons p
 WHERE p.resident_no LIKE 'FLT-$run-%' AND NOT EXISTS (SELECT 1 FROM attempt a WHERE a.resident = p.resident_no);
SELECT 'chain broken: ' || count(*) FROM audit.verify_chain(1, 100000000) v WHERE v.broken_pos IS NOT NULL;
SELECT 'info: changes ' || count(*) FILTER (WHERE person_id IS NOT NULL) || ', unlogged attempts (no answer, no change) '
       || count(*) FILTER (WHERE nrows = 0 AND person_id IS NULL) FROM verdict;
SQL
    } | ss_psql_super -d "$SS_DB_NAME" -f - >"$dir/verdict" 2>&1 || { cat "$dir/verdict"; return 1; }
    cat "$dir/verdict"
    if grep -v '^info:' "$dir/verdict" | grep -qv ': 0$'; then
        ss_err "the access log and the database disagree"
        grep -v ': 0$' "$dir/verdict" >&2
        rc=1
    fi
    return "$rc"
}
