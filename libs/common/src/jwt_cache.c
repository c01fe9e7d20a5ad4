/* jwt_cache.c - verified-token cache and claims -> principal (jwt.h).
 *
 * Direct-mapped table keyed by SHA-256 of the token; a slot holds the
 * principal until the token expires. Striped locks keep threads apart. A
 * revoked session is refused even on a cache hit (checked on every call). */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwt_internal.h"
#include "sesshu/db.h"
#include "sesshu/err.h"
#include "sesshu/jwt.h"
#include "sesshu/text.h"

#define SS_CACHE_SLOTS   16384
#define SS_CACHE_STRIPES 64

typedef struct slot {
    unsigned char key[32];
    bool used;
    ss_principal p;
} slot;

static slot *table;
static pthread_mutex_t stripes[SS_CACHE_STRIPES];

int ss_jwt_cache_init(void)
{
    if (table != NULL)
        return 0;
    table = calloc(SS_CACHE_SLOTS, sizeof(slot));
    if (table == NULL)
        return SS_ERR_NOMEM;
    for (int i = 0; i < SS_CACHE_STRIPES; i++)
        pthread_mutex_init(&stripes[i], NULL);
    return 0;
}

void ss_jwt_cache_free(void)
{
    free(table);
    table = NULL;
}

static void copy_str(char *dst, size_t n, const json_t *c, const char *key)
{
    const json_t *v = json_object_get(c, key);

    snprintf(dst, n, "%s", json_is_string(v) ? json_string_value(v) : "");
}

/* Claims of an API client's access token (H-2) -> principal. */
static int client_principal(const json_t *c, ss_principal *p)
{
    const json_t *scope = json_object_get(c, "scope");

    if (!json_is_string(json_object_get(c, "client_id")) ||
        !json_is_string(json_object_get(c, "jti")) || !json_is_string(json_object_get(c, "org")) ||
        (scope != NULL && !json_is_string(scope)))
        return SS_ERR_UNAUTHORIZED;
    p->kind = SS_PRINCIPAL_CLIENT;
    copy_str(p->sub, sizeof(p->sub), c, "client_id");
    copy_str(p->org_id, sizeof(p->org_id), c, "org");
    copy_str(p->org_code, sizeof(p->org_code), c, "org_code");
    copy_str(p->muni_code, sizeof(p->muni_code), c, "muni");
    copy_str(p->pref_code, sizeof(p->pref_code), c, "pref");
    copy_str(p->sid, sizeof(p->sid), c, "jti");
    copy_str(p->client_gen, sizeof(p->client_gen), c, "gen");
    p->org_type = ss_org_type_parse(json_string_value(json_object_get(c, "org_type")));
    p->exp = json_integer_value(json_object_get(c, "exp"));
    p->iat = json_integer_value(json_object_get(c, "iat"));
    if (p->org_type == SS_ORG_NONE ||
        ss_scopes_parse(scope ? json_string_value(scope) : "", &p->scopes) != 0)
        return SS_ERR_UNAUTHORIZED;
    return 0;
}

/* Claims of a vaccinee token (H-3-3; RFC 8693 token exchange at the token
 * service) -> principal: bound to one person (`person_id`, also `sub`), with
 * the portal client that exchanged it as the actor (`act.sub`) and that
 * client's generation (`gen`: disabling the portal refuses its tokens). */
static int vaccinee_principal(const json_t *c, ss_principal *p)
{
    const json_t *act = json_object_get(c, "act");
    const char *person = json_string_value(json_object_get(c, "person_id"));
    const char *sub = json_string_value(json_object_get(c, "sub"));

    if (!ss_uuid_ok(person) || sub == NULL || strcmp(sub, person) != 0 ||
        !json_is_string(json_object_get(c, "jti")) || !json_is_string(json_object_get(c, "gen")) ||
        !json_is_object(act) || !json_is_string(json_object_get(act, "sub")) ||
        json_object_get(c, "client_id") != NULL || json_object_get(c, "org") != NULL)
        return SS_ERR_UNAUTHORIZED;
    p->kind = SS_PRINCIPAL_VACCINEE;
    copy_str(p->person_id, sizeof(p->person_id), c, "person_id");
    copy_str(p->sub, sizeof(p->sub), c, "person_id");
    copy_str(p->login_id, sizeof(p->login_id), act, "sub"); /* the portal client, for the log */
    copy_str(p->sid, sizeof(p->sid), c, "jti");
    copy_str(p->client_gen, sizeof(p->client_gen), c, "gen");
    p->exp = json_integer_value(json_object_get(c, "exp"));
    p->iat = json_integer_value(json_object_get(c, "iat"));
    return 0;
}

/* A token that says when it was issued and lives no longer than any issuer grants. */
static bool lifetime_ok(const json_t *c)
{
    const json_t *iat = json_object_get(c, "iat"), *exp = json_object_get(c, "exp");

    return json_is_integer(iat) && json_is_integer(exp) &&
           json_integer_value(exp) > json_integer_value(iat) &&
           json_integer_value(exp) - json_integer_value(iat) <= SS_JWT_MAX_LIFETIME_S;
}

/* A session the account service's key signed names a live session of that user, organisation
 * and role (authz.live_sessions): a leaked key alone mints nothing the database does not hold.
 * A process's own unpublished key (SS_JWT_SELF: in-process tests) is trusted as issued. Asked
 * once per token: the answer is cached with the principal, and revocations end it later. */
static bool session_live(const ss_principal *p, const char *owner)
{
    const char *params[] = {p->sid, p->sub, p->org_id, ss_role_name(p->role)};
    ss_db *db = ss_jwt_db();
    PGresult *res = NULL;
    bool live;

    if (strcmp(owner, SS_JWT_SELF) == 0)
        return true;
    if (db == NULL || !ss_uuid_ok(p->sid) || !ss_uuid_ok(p->sub) || !ss_uuid_ok(p->org_id) ||
        params[3] == NULL)
        return false;
    if (ss_db_query(db,
                    "SELECT 1 FROM authz.live_sessions WHERE sid = $1::uuid AND user_id = "
                    "$2::uuid AND org_id = $3::uuid AND role = $4 AND expires_at > now()",
                    4, params, &res) != 0)
        return false;
    live = PQntuples(res) == 1;
    PQclear(res);
    return live;
}

/* Claims of a user session, an API client or a vaccinee -> principal, each only from its
 * issuer's keys (owner: ss_jwt_verify_owned). Returns 0 or UNAUTHORIZED. */
static int claims_principal(const json_t *c, const char *owner, ss_principal *p)
{
    memset(p, 0, sizeof(*p));
    if (!lifetime_ok(c))
        return SS_ERR_UNAUTHORIZED;
    if (json_object_get(c, "person_id") != NULL)
        return ss_jwt_owner_is(owner, "token") ? vaccinee_principal(c, p) : SS_ERR_UNAUTHORIZED;
    if (json_object_get(c, "client_id") != NULL)
        return ss_jwt_owner_is(owner, "token") ? client_principal(c, p) : SS_ERR_UNAUTHORIZED;
    if (!ss_jwt_owner_is(owner, "account") || json_object_get(c, "svc") != NULL)
        return SS_ERR_UNAUTHORIZED;
    if (!json_is_string(json_object_get(c, "sub")) || !json_is_string(json_object_get(c, "sid")) ||
        !json_is_string(json_object_get(c, "org")))
        return SS_ERR_UNAUTHORIZED;
    p->kind = SS_PRINCIPAL_USER;
    copy_str(p->sub, sizeof(p->sub), c, "sub");
    copy_str(p->login_id, sizeof(p->login_id), c, "uid");
    copy_str(p->org_id, sizeof(p->org_id), c, "org");
    copy_str(p->org_code, sizeof(p->org_code), c, "org_code");
    copy_str(p->muni_code, sizeof(p->muni_code), c, "muni");
    copy_str(p->pref_code, sizeof(p->pref_code), c, "pref");
    copy_str(p->sid, sizeof(p->sid), c, "sid");
    p->org_type = ss_org_type_parse(json_string_value(json_object_get(c, "org_type")));
    p->role = ss_role_parse(json_string_value(json_object_get(c, "role")));
    p->pw_change_required = json_is_true(json_object_get(c, "pwc"));
    p->exp = json_integer_value(json_object_get(c, "exp"));
    p->iat = json_integer_value(json_object_get(c, "iat"));
    if (p->org_type == SS_ORG_NONE || p->role == SS_ROLE_NONE || !session_live(p, owner))
        return SS_ERR_UNAUTHORIZED;
    return 0;
}

int ss_jwt_principal(const char *token, ss_principal *out)
{
    unsigned char key[32];
    unsigned int klen = 0;
    size_t idx;
    slot *s;
    json_t *claims = NULL;
    ss_principal p;
    char org_key[64];
    int rc;

    memset(out, 0, sizeof(*out));
    if (token == NULL || table == NULL || strlen(token) > 8192)
        return SS_ERR_UNAUTHORIZED;
    EVP_Digest(token, strlen(token), key, &klen, EVP_sha256(), NULL);
    memcpy(&idx, key, sizeof(idx));
    idx %= SS_CACHE_SLOTS;
    s = &table[idx];
    pthread_mutex_lock(&stripes[idx % SS_CACHE_STRIPES]);
    if (s->used && memcmp(s->key, key, 32) == 0)
        p = s->p;
    else
        p.kind = SS_PRINCIPAL_NONE;
    pthread_mutex_unlock(&stripes[idx % SS_CACHE_STRIPES]);

    if (p.kind == SS_PRINCIPAL_NONE) {
        char owner[SS_JWT_OWNER_MAX];

        rc = ss_jwt_verify_owned(token, &claims, owner);
        if (rc == 0)
            rc = claims_principal(claims, owner, &p);
        json_decref(claims);
        if (rc != 0)
            return SS_ERR_UNAUTHORIZED;
        pthread_mutex_lock(&stripes[idx % SS_CACHE_STRIPES]);
        memcpy(s->key, key, 32);
        s->p = p;
        s->used = true;
        pthread_mutex_unlock(&stripes[idx % SS_CACHE_STRIPES]);
    }
    snprintf(org_key, sizeof(org_key), "org:%s", p.org_id);
    if (p.exp + 30 < ss_now_s() || ss_jwt_is_revoked(p.sid) ||
        ((p.kind == SS_PRINCIPAL_CLIENT || p.kind == SS_PRINCIPAL_VACCINEE) &&
         ss_jwt_is_revoked(p.client_gen)) ||
        ss_jwt_is_revoked_since(org_key, p.iat))
        return SS_ERR_UNAUTHORIZED;
    *out = p;
    return 0;
}
