/* db_read.c - heavy reads on a standby with bounded, reported staleness (db.h ss_db_query_read).
 *
 * A standby replays the primary's WAL a little behind. A read that may lag (statistics,
 * analytics) runs there when the lag is known and under the caller's bound; otherwise on the
 * primary. The caller shows the lag it got, so a reader knows how old the answer can be. */
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "sesshu/db.h"
#include "sesshu/err.h"

/* Lag in ms: 0 on a primary or a standby that has replayed all it received; the age of the
 * last replayed transaction otherwise; -1 when unknown (a standby with no WAL receiver: it
 * streams from no one). Only the receiver's pid is visible without pg_read_all_stats. */
static const char *const lag_sql =
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0"
    " WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE pid IS NOT NULL) THEN -1"
    " WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    " ELSE COALESCE((EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())"
    " * 1000)::bigint, -1) END, pg_is_in_recovery()";

static int standby_lag(ss_dbc *c, long *lag_ms, bool *standby)
{
    PGresult *res = NULL;
    const char *v, *rec;
    int rc = ss_db_exec(c, lag_sql, 0, NULL, &res);

    if (rc != 0)
        return rc;
    v = ss_db_val(res, 0, 0);
    rec = ss_db_val(res, 0, 1);
    *lag_ms = v != NULL ? strtol(v, NULL, 10) : -1;
    *standby = rec != NULL && rec[0] == 't';
    PQclear(res);
    return 0;
}

/* A read connection on a primary (it was a standby before a failover, or there was none): redial
 * once in a while, prefer-standby then finds the standby if there is one again. */
#define REDIAL_S 5
static atomic_llong last_redial;

static void maybe_redial(ss_dbc *c)
{
    long long now = (long long)time(NULL), last = atomic_load(&last_redial);

    if (now - last >= REDIAL_S && atomic_compare_exchange_strong(&last_redial, &last, now))
        ss_db_discard(c);
}

int ss_db_query_read(ss_db *read, ss_db *primary, long max_lag_ms, const char *sql, int nparams,
                     const char *const *params, PGresult **out, ss_db_read_info *info)
{
    ss_dbc *c = NULL;
    int rc;

    *out = NULL;
    info->standby = false;
    info->lag_ms = 0;
    if (read != NULL && ss_db_acquire(read, &c) == 0) {
        long lag = -1;
        bool standby = false;

        if (standby_lag(c, &lag, &standby) == 0 && lag >= 0 && lag <= max_lag_ms) {
            rc = ss_db_exec(c, sql, nparams, params, out);
            if (!standby)
                maybe_redial(c);
            ss_db_release(c);
            if (rc != SS_ERR_UNAVAILABLE) { /* a lost standby: try the primary */
                info->standby = standby;
                info->lag_ms = lag;
                return rc;
            }
        } else {
            ss_db_release(c);
        }
    }
    /* No standby within the bound (or none reachable): the primary, which does not lag. */
    return ss_db_query(primary, sql, nparams, params, out);
}
