/* idem.h - Idempotency-Key on writes (docs/architecture.md §3): a retry of the same request
 * under the same key gets the first answer and creates nothing new.
 *
 * The service's migrations create, in its own schema, the table
 *   <schema>.idempotency_keys (actor text, key text, request_hash text NOT NULL,
 *                              status integer, body text, created_at timestamptz NOT NULL
 *                              DEFAULT now(), PRIMARY KEY (actor, key))
 * and the handler brackets its work, inside its own transaction on connection c:
 *   ss_idem st;
 *   if ((rc = ss_idem_claim(r, c, &st)) != 0) goto out;   // 422 key reused, 400 bad key
 *   if (st.replayed) goto out;                            // the first answer was sent
 *   ... the work ...
 *   ss_idem_store(r, c, &st, 201, text);                  // before the commit
 * A failed request rolls its claim back with everything else, so only successes are kept and
 * a retry after a failure runs again. A concurrent duplicate waits on the first one's row and
 * then replays its answer. */
#ifndef SESSHU_IDEM_H
#define SESSHU_IDEM_H

#include <stdbool.h>

#include "sesshu/db.h"
#include "sesshu/http.h"

#define SS_IDEM_KEY_MAX 255

typedef struct ss_idem {
    bool active;   /* the request carried a key */
    bool replayed; /* the stored answer was sent; the handler does nothing more */
    char actor[96];
    char key[SS_IDEM_KEY_MAX + 1];
    char hash[65]; /* SHA-256 of method, path and body */
} ss_idem;

/* Read the Idempotency-Key header (1..255 printable ASCII characters) and claim it for the
 * caller, or replay the stored answer (st->replayed). 0, SS_ERR_BAD_REQUEST for a malformed
 * key, SS_ERR_VALIDATION when the key was used for a different request, or a database error. */
int ss_idem_claim(ss_req *r, ss_dbc *c, ss_idem *st);
/* Keep the answer (status, JSON text) under the claimed key; no-op without a key. */
int ss_idem_store(ss_req *r, ss_dbc *c, const ss_idem *st, int status, const char *body);

#endif
