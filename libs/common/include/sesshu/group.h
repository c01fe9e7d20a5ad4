/* group.h - group commit of write requests: concurrent requests of one route share one
 * transaction and one COMMIT, each still atomic, each answered only after the shared commit.
 *
 * A write route opts in by doing its change through ss_group_write instead of its own
 * transaction: everything that needs no transaction (reads, signing, building the statements'
 * parameters) is done first on the request's thread; then fn, which only runs the change's
 * statements on c, is queued. A committer ("lane", SESSHU_GROUP_LANES, default half of
 * SESSHU_DB_POOL, each with a connection of the service's pool) takes every queued change (at most
 * SS_GROUP_MAX), and runs BEGIN; SAVEPOINT g; fn1; RELEASE SAVEPOINT g; SAVEPOINT g; fn2; ...;
 *   audit.append(the rows of the changes that succeeded); COMMIT
 * (BEGIN with the first SAVEPOINT, and each RELEASE with the next SAVEPOINT, one round trip; a
 * change alone in its batch takes no savepoint: it fails with its whole transaction)
 * A change whose fn fails (or answers >= 400) is rolled back to its savepoint alone: nothing of it
 * stays, and its request's row is written afterwards by the dispatcher like any answer that
 * changed nothing. The access-log rows of the changes go in with them in one audit.append (one
 * stream head update, one array build, instead of one a request), so a change and its row commit
 * together or not at all, and the log keeps exactly one row a request. If the batch cannot be
 * committed, every change of it is answered 503 (nothing changed); if the COMMIT's answer was
 * lost, the log is asked whether it committed (as for a single write, dispatch.c).
 *
 * fn runs on a lane's thread while the request's thread waits: it may use r (reply, fail, fill
 * res_id...), but not the request's thread-locals (ss_db_request_begin's capture is not on
 * there: fn's statements run as written, inside the savepoint). A batch is what queued while the
 * lanes were busy: under light load a change commits alone at once (no lingering), under load
 * dozens share one WAL flush. SS_GROUP_MAX stays below PostgreSQL's 64 cached subtransaction ids
 * a backend, past which every snapshot in the cluster gets slower (pg_subtrans lookups). */
#ifndef SESSHU_GROUP_H
#define SESSHU_GROUP_H

#include "sesshu/db.h"
#include "sesshu/http.h"

#define SS_GROUP_MAX 48

/* The change of one request on the shared transaction c. 0 when done (the reply made), or an
 * SS_ERR_* code (then rolled back to its savepoint and returned by ss_group_write). */
typedef int (*ss_group_fn)(ss_req *r, ss_dbc *c, void *arg);

/* Run fn in the next shared transaction and wait for its commit. Returns fn's code; 0 means
 * committed with its access-log row (r->logged set, the dispatcher writes no other). When the
 * batch could not be committed: SS_ERR_UNAVAILABLE (nothing changed, fn's answer dropped) with
 * r->logged clear (the dispatcher logs the 503). A route that uses it makes no other change
 * in the request (it would be a second transaction). */
int ss_group_write(ss_req *r, ss_group_fn fn, void *arg);

/* Stop the lanes (the server does, once no request runs, before closing the pool): what is
 * queued still runs first. Later calls of ss_group_write answer 503. */
void ss_group_stop(void);

#endif
