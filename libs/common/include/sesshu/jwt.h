/* jwt.h - ES256 JSON Web Tokens (libjwt + OpenSSL) and the key store.
 *
 * Issuers (account: sessions; token: client and vaccinee tokens; a service that calls another:
 * its service tokens, e.g. certificate) sign with the P-256 key in
 * SESSHU_<SERVICE>_SIGNING_KEY_FILE, which server.c hands to ss_jwt_init_key (else
 * SESSHU_JWT_SIGNING_KEY_FILE); other services hold none. Every
 * service verifies against every *.pem public key in SESSHU_JWT_PUBLIC_KEY_DIR; `kid` is the RFC
 * 7638 JWK thumbprint. Verified tokens are cached by SHA-256 of the token until they expire (an
 * ES256 verify costs ~80 us; a cache hit ~1 us). Revoked session ids are polled from
 * authz.revocations every SESSHU_REVOCATION_POLL_MS and refused even when cached. */
#ifndef SESSHU_JWT_H
#define SESSHU_JWT_H

#include <jansson.h>
#include <stdbool.h>

#include "sesshu/authz.h"
#include "sesshu/db.h"

/* Load keys from the environment. need_signing: fail if no signing key. */
int ss_jwt_init(bool need_signing);
/* The same with the signing key's file given (NULL: none), not read from
 * SESSHU_JWT_SIGNING_KEY_FILE. */
int ss_jwt_init_key(const char *signing_key_file, bool need_signing);
void ss_jwt_shutdown(void);

/* Sign claims (not stolen) as ES256 with header kid. *out is malloc'd. */
int ss_jwt_sign(const json_t *claims, char **out);

/* Verify signature, alg=ES256, kid known, exp/nbf/iat with 30 s leeway,
 * issuer. On success *claims_out (optional) receives a new reference.
 * SS_ERR_UNAUTHORIZED on any failure. */
int ss_jwt_verify(const char *token, json_t **claims_out);

/* Which service's key signed a token: public key files are named "<owner>-<kid>.pem" (owner:
 * account, token, or another service's name); a process's own signing key that no file names
 * is SS_JWT_SELF; an unnamed file gives "". Each kind of token is accepted only from its
 * issuer's keys (user sessions: account; API-client and vaccinee tokens: token; a service
 * token: the service it names), so one service's leaked key cannot mint another's tokens. */
#define SS_JWT_OWNER_MAX 24
#define SS_JWT_SELF      "(self)"
/* ss_jwt_verify, and the owner of the key that signed it (owner: SS_JWT_OWNER_MAX bytes). */
int ss_jwt_verify_owned(const char *token, json_t **claims_out, char owner[SS_JWT_OWNER_MAX]);
/* May a key of `owner` sign the tokens of `service` (SS_JWT_SELF may sign anything)? */
bool ss_jwt_owner_is(const char *owner, const char *service);
/* The longest lifetime (exp - iat) of a session, API-client or vaccinee token. */
#define SS_JWT_MAX_LIFETIME_S 3600

/* Verify (through the cache) and fill a principal from the claims. */
int ss_jwt_principal(const char *token, ss_principal *out);

/* The public JWK Set as a new JSON object {"keys":[...]}. */
json_t *ss_jwt_jwks(void);

/* Revocation: mark a session id revoked in this process at once (the
 * database row is written by the caller); the poller picks up other
 * processes' revocations. */
void ss_jwt_revoke_local(const char *sid, long long exp);
bool ss_jwt_is_revoked(const char *sid);
/* Is `key` (e.g. "org:<uuid>") revoked for a token issued at `iat`, i.e.
 * in a second before the revocation's? Tokens of the revocation's own second
 * pass, so that a re-enable in that second is not undone; user sessions are
 * revoked by sid anyway, and the token endpoint refuses a disabled
 * organisation's grants at once. */
bool ss_jwt_is_revoked_since(const char *key, long long iat);
/* Start the revocation poller on db (reads authz.revocations). */
int ss_jwt_start_revocation_poller(ss_db *db);
void ss_jwt_stop_revocation_poller(void);

/* Build the session claims for a user principal (iss, sub, iat, exp, jti,
 * sid, org, org_type, org_code, muni, pref, role, uid, pwc). New reference. */
json_t *ss_jwt_user_claims(const ss_principal *p, long ttl_seconds);

/* Build the claims of a vaccinee token (H-3-3, issued by the token service's
 * RFC 8693 exchange): iss, sub = person_id = person, act {sub = portal client
 * id}, azp, gen (the portal client's generation), iat, exp, jti (out, 37
 * bytes). ss_jwt_principal() turns them into an SS_PRINCIPAL_VACCINEE with
 * person_id; revoking the jti or the gen refuses the token. New reference. */
json_t *ss_jwt_vaccinee_claims(const char *person, const char *portal_client, const char *gen,
                               long ttl_seconds, char jti[37]);

#endif
