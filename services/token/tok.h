/* tok.h - what the token service's files share (prefix tok_).
 *
 * Ownership: functions returning json_t* give a new reference (json_decref);
 * PGresult* out-parameters are the caller's (PQclear). */
#ifndef TOK_H
#define TOK_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "sesshu/authz.h"
#include "sesshu/db.h"
#include "sesshu/http.h"
#include "sesshu/server.h"
#include "sesshu/sql.h"
#include "tok_sql.h" /* generated from sql/<resource>.sql (cmake/sesshu_sql.cmake) */

extern const ss_service tok_service;

/* ---- service.c: configuration ---------------------------------------- */
typedef struct tok_config {
    long token_ttl_s;     /* SESSHU_TOKEN_TTL_S: lifetime of an access token */
    long grace_s;         /* SESSHU_TOKEN_SECRET_GRACE_S: old secret valid after a rotation */
    long vaccinee_ttl_s;  /* SESSHU_TOKEN_VACCINEE_TTL_S: lifetime of a vaccinee token */
    long client_cache_ms; /* SESSHU_TOKEN_CLIENT_CACHE_MS: cache.c, 0 = off */
} tok_config;
extern tok_config tok_cfg;

#define TOK_SECRET_BYTES 32
#define TOK_FORM_MAX     4096 /* bytes of a form body on the OAuth endpoints */

/* ---- form.c: application/x-www-form-urlencoded and client authentication */
#define TOK_FORM_MAX_PARAMS 8
typedef struct tok_form {
    int n;
    char *key[TOK_FORM_MAX_PARAMS];
    char *val[TOK_FORM_MAX_PARAMS];
} tok_form;
/* Parse the request body as a form: content type, size, percent-decoding,
 * UTF-8, no repeated parameter (RFC 6749 3.2). 0, or an OAuth error reply
 * was sent and *replied is true. Free with tok_form_free. */
int tok_form_parse(ss_req *r, tok_form *f, bool *replied);
void tok_form_free(tok_form *f);
const char *tok_form_get(const tok_form *f, const char *key);
/* Reply with an RFC 6749 5.2 error ({"error","error_description"}). */
int tok_oauth_error(ss_req *r, int status, const char *error, const char *desc);

/* The authenticated client of an OAuth request. */
typedef struct tok_client {
    char id[40];
    char org_id[40];
    char org_type[40];
    char org_code[24];
    char muni[8];
    char pref[4];
    char gen[40];
    unsigned scopes;
    bool portal; /* kind 'portal': token exchange only (H-3-3) */
} tok_client;
/* Conditions on token.clients c ($1 id, $2 source address) for a client
 * that may authenticate now: active, from an allowed address, of an
 * active organisation. */
#define TOK_CLIENT_USABLE                                                                      \
    "WHERE c.id = $1::uuid AND c.status = 'active' AND (cardinality(c.allowed_addresses) = 0 " \
    "OR $2::inet <<= ANY (c.allowed_addresses)) AND EXISTS (SELECT 1 FROM "                    \
    "account.organizations o WHERE o.id = c.org_id AND o.status = 'active')"
/* What tok_client_fill reads, in this order. */
#define TOK_CLIENT_COLUMNS                                                                     \
    "c.org_id, c.org_type, c.org_code, coalesce(c.muni_code, ''), coalesce(c.pref_code, ''), " \
    "c.gen, array_to_string(c.scopes, ' '), c.kind"
int tok_client_fill(const PGresult *res, const char *id, tok_client *c);

/* ---- assertion.c: private_key_jwt (RFC 7523) ------------------------- */
#define TOK_ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
/* Verify a client assertion (form_id: the form's client_id or NULL), record
 * its jti and count the use. 0 with *c, SS_ERR_UNAUTHORIZED, or another. */
int tok_assertion_auth(ss_req *r, const char *assertion, const char *form_id, tok_client *c);
/* Verify a compact JWS with a P-256 public key PEM, ES256 only (the header
 * is checked first so no other algorithm can be smuggled in): its claims
 * (new reference) or NULL. */
json_t *tok_jws_verify(const char *jws, const char *pem);
/* aud (string or array) names our issuer or our token endpoint. */
bool tok_aud_ok(const json_t *aud);
/* A registered public key (JWK object or PEM text; P-256 only) as SPKI
 * PEM (malloc'd). 0 or SS_ERR_VALIDATION. */
int tok_public_key_pem(const json_t *jwk, const char *pem, char **pem_out);

/* Authenticate the caller (client_secret_basic, client_secret_post or
 * private_key_jwt),
 * counting the use. 0 with *c filled, or an error reply was sent
 * (invalid_client 401, invalid_request 400) and *replied is true. */
int tok_client_auth(ss_req *r, const tok_form *f, tok_client *c, bool *replied);

/* ---- cache.c: clients that just authenticated by secret ----------------- */
/* The epoch to pass to tok_cache_put: read it before the database check. */
unsigned long long tok_cache_epoch(void);
/* A kept client with this id and SHA-256 hex of the secret, still usable. */
bool tok_cache_get(const char *id, const char hash[65], tok_client *out);
/* Keep c (checked by the database at read_s with the current secret, no address list) unless a
 * client changed since read_epoch. */
void tok_cache_put(const tok_client *c, const char hash[65], unsigned long long read_epoch,
                   long long read_s);
/* Forget the client at once (every change of a client through this process). */
void tok_cache_forget(const char *id);

/* ---- usage.c: use counts, batched -------------------------------------- */
int tok_usage_start(ss_db *db);
void tok_usage_stop(void); /* idempotent; flushes */
void tok_usage_count(const char *client_id);
/* Write the counts gathered so far (before reading them). */
int tok_usage_flush(void);

/* ---- clients.c ------------------------------------------------------- */
/* Revoke every token of the client's generation (inside c's transaction). */
int tok_revoke_gen(ss_dbc *c, const char *gen);

/* ---- handlers ---------------------------------------------------------- */
int tok_h_client_create(ss_req *r);
/* Shared by API and portal clients (clients.c): the caller's organisation's clients listed by
 * `sql` ($1 = organisation; column 0 each client's JSON); the client :id loaded and locked in c's
 * transaction by `sql` ($1 = id, $2 = organisation; *res freed by the caller with PQclear), 404
 * for anything not the caller's; and a GET answering it through `reply`. */
int tok_own_list(ss_req *r, const char *sql);
int tok_own_load(ss_req *r, ss_dbc *c, const char *sql, PGresult **res);
int tok_own_get(ss_req *r, const char *sql,
                int (*reply)(ss_req *, int, const PGresult *, const char *));
int tok_h_client_list(ss_req *r);
int tok_h_client_get(ss_req *r);
int tok_h_client_patch(ss_req *r);
int tok_h_client_delete(ss_req *r);
int tok_h_client_rotate(ss_req *r);
int tok_h_token(ss_req *r);
int tok_h_introspect(ss_req *r);
int tok_h_revoke(ss_req *r);
int tok_h_jwks(ss_req *r);
/* exchange.c: the RFC 8693 grant of a portal client (called by tok_h_token
 * once the client is authenticated; f and c borrowed). */
#define TOK_GRANT_EXCHANGE "urn:ietf:params:oauth:grant-type:token-exchange"
int tok_exchange(ss_req *r, const tok_form *f, const tok_client *c);
/* portal.c: /api/v1/portal-clients (portal_clients.manage). */
int tok_h_portal_create(ss_req *r);
int tok_h_portal_list(ss_req *r);
int tok_h_portal_get(ss_req *r);
int tok_h_portal_patch(ss_req *r);
int tok_h_portal_delete(ss_req *r);
int tok_h_metadata(ss_req *r);

#endif
