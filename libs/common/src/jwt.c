/* jwt.c - ES256 signing and verification, the key store and JWKS (jwt.h).
 * The verified-token cache lives in jwt_cache.c, revocations in revoke.c. */
#include "sesshu/jwt.h"

#include <dirent.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwt_internal.h"
#include "sesshu/config.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/log.h"
#include "sesshu/text.h"

#define SS_JWT_MAX_KEYS 16
#define SS_JWT_LEEWAY   30

typedef struct ss_key {
    char kid[48];
    char owner[SS_JWT_OWNER_MAX]; /* the issuing service (key file "<owner>-<kid>.pem"), SS_JWT_SELF
                                   * for this process's own key found in no file, or "" */
    char x[48], y[48];            /* base64url coordinates */
    char *pem;                    /* public key PEM */
    size_t pem_len;
    EVP_PKEY *pk; /* parsed once: es256.c verifies with it */
} ss_key;

#define SS_JWT_RELOAD_S 3 /* at most one key-directory rescan per this many seconds */

/* Keys are only appended: readers take nkeys with an acquire load and read
 * keys[0..n-1], which are complete before the release store that counts
 * them. Appends (init, rescan) hold reload_mu. */
static ss_key keys[SS_JWT_MAX_KEYS];
static int nkeys;
static pthread_mutex_t reload_mu = PTHREAD_MUTEX_INITIALIZER;
static long long last_reload;
static char pub_dir[4096];
static char *sign_pem; /* private key PEM */
static size_t sign_pem_len;
static EVP_PKEY *sign_pk; /* the same, parsed once (es256.c) */
static char sign_kid[48];
static char issuer[256];

/* Fill kid/x/y/pem of k from a public or private EVP_PKEY. */
static int key_describe(EVP_PKEY *pk, ss_key *k)
{
    BIO *bio = NULL;
    BUF_MEM *mem = NULL;
    int rc = SS_ERR_INTERNAL;

    if (ss_es256_jwk(pk, k->kid, k->x, k->y) != 0)
        goto out;
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || !PEM_write_bio_PUBKEY(bio, pk))
        goto out;
    BIO_get_mem_ptr(bio, &mem);
    if ((k->pem = malloc(mem->length + 1)) == NULL)
        goto out;
    memcpy(k->pem, mem->data, mem->length);
    k->pem[mem->length] = '\0';
    k->pem_len = mem->length;
    rc = 0;
out:
    BIO_free(bio);
    return rc;
}

static int add_key(EVP_PKEY *pk, const char *owner)
{
    ss_key k;

    memset(&k, 0, sizeof(k));
    snprintf(k.owner, sizeof(k.owner), "%s", owner);
    if (!ss_es256_is_p256(pk) || nkeys >= SS_JWT_MAX_KEYS || key_describe(pk, &k) != 0) {
        free(k.pem);
        return SS_ERR_INTERNAL;
    }
    for (int i = 0; i < nkeys; i++)
        if (strcmp(keys[i].kid, k.kid) == 0) {
            free(k.pem);
            return 0; /* already known */
        }
    if (EVP_PKEY_up_ref(pk) != 1) {
        free(k.pem);
        return SS_ERR_INTERNAL;
    }
    k.pk = pk;
    keys[nkeys] = k;
    __atomic_store_n(&nkeys, nkeys + 1, __ATOMIC_RELEASE);
    return 0;
}

static int load_signing(const char *path)
{
    FILE *f = fopen(path, "rb");
    EVP_PKEY *pk = NULL;
    long len;
    int rc = SS_ERR_INTERNAL;

    if (f == NULL) {
        SS_ERROR("jwt: cannot read signing key %s", path);
        return SS_ERR_INTERNAL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && len < 65536 &&
        fseek(f, 0, SEEK_SET) == 0 && (sign_pem = malloc((size_t)len + 1)) != NULL &&
        fread(sign_pem, 1, (size_t)len, f) == (size_t)len) {
        sign_pem[len] = '\0';
        sign_pem_len = (size_t)len;
        if (fseek(f, 0, SEEK_SET) == 0)
            pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    }
    fclose(f);
    if (pk != NULL && ss_es256_is_p256(pk) && add_key(pk, SS_JWT_SELF) == 0) {
        ss_key tmp;

        memset(&tmp, 0, sizeof(tmp));
        if (key_describe(pk, &tmp) == 0 && EVP_PKEY_up_ref(pk) == 1) {
            snprintf(sign_kid, sizeof(sign_kid), "%s", tmp.kid);
            sign_pk = pk;
            rc = 0;
        }
        free(tmp.pem);
    } else {
        SS_ERROR("jwt: %s is not an EC P-256 private key", path);
    }
    EVP_PKEY_free(pk);
    return rc;
}

/* The owner named by a key file "<owner>-<kid>.pem" (owner: lower-case letters), or "". */
static void file_owner(const char *name, char owner[SS_JWT_OWNER_MAX])
{
    size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz");

    owner[0] = '\0';
    if (n > 0 && n < SS_JWT_OWNER_MAX && name[n] == '-')
        snprintf(owner, SS_JWT_OWNER_MAX, "%.*s", (int)n, name);
}

/* Every *.pem public key of dir: first the files that name their owner, then the others (a key
 * is kept with the first owner it is found with, so an old unnamed copy cannot hide one). */
static void load_public_dir(const char *dir)
{
    for (int owned = 1; owned >= 0; owned--) {
        DIR *d = opendir(dir);
        struct dirent *e;

        if (d == NULL)
            return;
        while ((e = readdir(d)) != NULL) {
            char path[4096], owner[SS_JWT_OWNER_MAX];
            size_t n = strlen(e->d_name);
            FILE *f;
            EVP_PKEY *pk;

            file_owner(e->d_name, owner);
            if (n < 5 || strcmp(e->d_name + n - 4, ".pem") != 0 || (owner[0] != '\0') != owned)
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            f = fopen(path, "rb");
            if (f == NULL)
                continue;
            pk = PEM_read_PUBKEY(f, NULL, NULL, NULL);
            fclose(f);
            if (pk == NULL || add_key(pk, owner) != 0)
                SS_WARN("jwt: ignoring %s (not an EC P-256 public key)", path);
            EVP_PKEY_free(pk);
        }
        closedir(d);
    }
}

int ss_jwt_init(bool need_signing)
{
    return ss_jwt_init_key(ss_cfg_str(SS_ENV_JWT_KEY, NULL), need_signing);
}

int ss_jwt_init_key(const char *sk, bool need_signing)
{
    const char *dir = ss_cfg_str(SS_ENV_JWT_PUBDIR, NULL);

    snprintf(issuer, sizeof(issuer), "%s", ss_cfg_str(SS_ENV_JWT_ISSUER, "http://localhost:8080"));
    /* The public files first: this process's own key then keeps the owner its file names. */
    if (dir != NULL) {
        snprintf(pub_dir, sizeof(pub_dir), "%s", dir);
        pthread_mutex_lock(&reload_mu);
        load_public_dir(dir);
        last_reload = ss_now_s();
        pthread_mutex_unlock(&reload_mu);
    }
    if (sk != NULL && load_signing(sk) != 0)
        return SS_ERR_INTERNAL;
    if (need_signing && sign_pem == NULL) {
        SS_ERROR("jwt: %s must name an EC P-256 private key", SS_ENV_JWT_KEY);
        return SS_ERR_INTERNAL;
    }
    if (nkeys == 0) {
        SS_ERROR("jwt: no verification keys (%s or %s)", SS_ENV_JWT_PUBDIR, SS_ENV_JWT_KEY);
        return SS_ERR_INTERNAL;
    }
    return ss_jwt_cache_init();
}

/* A token names a key we do not know: another issuer may have rotated in a
 * new one. Rescan the public key directory, at most once per few seconds so
 * a flood of forged kids costs nothing. Returns true if keys were added. */
static bool reload_keys(void)
{
    long long now = ss_now_s();
    int before;
    bool added = false;

    if (pub_dir[0] == '\0' ||
        __atomic_load_n(&last_reload, __ATOMIC_RELAXED) + SS_JWT_RELOAD_S > now)
        return false;
    pthread_mutex_lock(&reload_mu);
    if (last_reload + SS_JWT_RELOAD_S <= now) {
        before = nkeys;
        load_public_dir(pub_dir);
        __atomic_store_n(&last_reload, now, __ATOMIC_RELAXED);
        added = nkeys > before;
    }
    pthread_mutex_unlock(&reload_mu);
    return added;
}

void ss_jwt_shutdown(void)
{
    pthread_mutex_lock(&reload_mu);
    for (int i = 0; i < nkeys; i++) {
        free(keys[i].pem);
        EVP_PKEY_free(keys[i].pk);
    }
    nkeys = 0;
    pub_dir[0] = '\0';
    last_reload = 0;
    pthread_mutex_unlock(&reload_mu);
    free(sign_pem);
    sign_pem = NULL;
    EVP_PKEY_free(sign_pk);
    sign_pk = NULL;
    ss_jwt_cache_free();
}

int ss_jwt_sign(const json_t *claims, char **out)
{
    json_t *hdr = NULL;
    char *h = NULL, *p = NULL, *hb = NULL, *pb = NULL, *sig = NULL, *input = NULL;
    size_t n;
    int rc = SS_ERR_INTERNAL;

    *out = NULL;
    if (sign_pk == NULL)
        return SS_ERR_INTERNAL;
    hdr = json_pack("{s:s,s:s,s:s}", "alg", "ES256", "typ", "JWT", "kid", sign_kid);
    if (hdr == NULL || (h = json_dumps(hdr, JSON_COMPACT)) == NULL ||
        (p = json_dumps(claims, JSON_COMPACT)) == NULL ||
        (hb = ss_b64url_encode((const unsigned char *)h, strlen(h))) == NULL ||
        (pb = ss_b64url_encode((const unsigned char *)p, strlen(p))) == NULL)
        goto out;
    n = strlen(hb) + strlen(pb) + 2;
    if ((input = malloc(n + 90)) == NULL)
        goto out;
    snprintf(input, n, "%s.%s", hb, pb);
    if ((rc = ss_es256_sign(sign_pk, input, n - 1, &sig)) != 0)
        goto out;
    snprintf(input + n - 1, 90, ".%s", sig);
    *out = input;
    input = NULL;
out:
    json_decref(hdr);
    free(h);
    free(p);
    free(hb);
    free(pb);
    free(sig);
    free(input);
    return rc;
}

static const ss_key *key_by_kid(const char *kid)
{
    int n = __atomic_load_n(&nkeys, __ATOMIC_ACQUIRE);

    for (int i = 0; i < n; i++)
        if (strcmp(keys[i].kid, kid) == 0)
            return &keys[i];
    return NULL;
}

/* The header's kid, checked to be ES256 and known (after a rescan of the
 * key directory if need be); returns the key or NULL. */
static const ss_key *header_key(const char *token)
{
    const char *dot = strchr(token, '.');
    char hb64[512];
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    json_t *hdr = NULL;
    const ss_key *found = NULL;

    if (dot == NULL || (size_t)(dot - token) >= sizeof(hb64))
        return NULL;
    memcpy(hb64, token, (size_t)(dot - token));
    hb64[dot - token] = '\0';
    raw = ss_b64url_decode(hb64, &rawlen);
    if (raw != NULL)
        hdr = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, NULL);
    if (hdr != NULL && json_is_string(json_object_get(hdr, "alg")) &&
        strcmp(json_string_value(json_object_get(hdr, "alg")), "ES256") == 0 &&
        json_is_string(json_object_get(hdr, "kid"))) {
        const char *kid = json_string_value(json_object_get(hdr, "kid"));

        found = key_by_kid(kid);
        if (found == NULL && reload_keys())
            found = key_by_kid(kid);
    }
    json_decref(hdr);
    free(raw);
    return found;
}

static bool time_claims_ok(const json_t *c)
{
    long long now = ss_now_s();
    json_t *exp = json_object_get(c, "exp");
    json_t *nbf = json_object_get(c, "nbf");
    json_t *iat = json_object_get(c, "iat");
    json_t *iss = json_object_get(c, "iss");

    if (!json_is_integer(exp) || json_integer_value(exp) + SS_JWT_LEEWAY < now)
        return false;
    if (nbf != NULL && (!json_is_integer(nbf) || json_integer_value(nbf) > now + SS_JWT_LEEWAY))
        return false;
    if (iat != NULL && (!json_is_integer(iat) || json_integer_value(iat) > now + SS_JWT_LEEWAY))
        return false;
    return json_is_string(iss) && strcmp(json_string_value(iss), issuer) == 0;
}

bool ss_jwt_owner_is(const char *owner, const char *service)
{
    return owner != NULL && service != NULL &&
           (strcmp(owner, SS_JWT_SELF) == 0 || (owner[0] != '\0' && strcmp(owner, service) == 0));
}

int ss_jwt_verify(const char *token, json_t **claims_out)
{
    return ss_jwt_verify_owned(token, claims_out, NULL);
}

int ss_jwt_verify_owned(const char *token, json_t **claims_out, char owner[SS_JWT_OWNER_MAX])
{
    const ss_key *k;
    const char *dot1, *dot2;
    char pb[8192];
    unsigned char *payload = NULL;
    size_t plen = 0;
    json_t *claims = NULL;
    int rc = SS_ERR_UNAUTHORIZED;

    if (claims_out != NULL)
        *claims_out = NULL;
    if (token == NULL || strlen(token) > 8192 || (k = header_key(token)) == NULL)
        return SS_ERR_UNAUTHORIZED;
    /* header_key checked alg = ES256 and the kid; the signature covers header.payload. */
    if ((dot1 = strchr(token, '.')) == NULL || (dot2 = strchr(dot1 + 1, '.')) == NULL ||
        strchr(dot2 + 1, '.') != NULL || (size_t)(dot2 - dot1 - 1) >= sizeof(pb) ||
        !ss_es256_verify(k->pk, token, (size_t)(dot2 - token), dot2 + 1))
        goto out;
    memcpy(pb, dot1 + 1, (size_t)(dot2 - dot1 - 1));
    pb[dot2 - dot1 - 1] = '\0';
    payload = ss_b64url_decode(pb, &plen);
    if (payload == NULL ||
        (claims = json_loadb((const char *)payload, plen, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
        !json_is_object(claims) || !time_claims_ok(claims))
        goto out;
    rc = 0;
    if (owner != NULL)
        snprintf(owner, SS_JWT_OWNER_MAX, "%s", k->owner);
    if (claims_out != NULL) {
        *claims_out = claims;
        claims = NULL;
    }
out:
    json_decref(claims);
    free(payload);
    return rc;
}

json_t *ss_jwt_jwks(void)
{
    json_t *arr = json_array();
    int n;

    reload_keys(); /* a key put into the directory since shows up here too */
    n = __atomic_load_n(&nkeys, __ATOMIC_ACQUIRE);
    for (int i = 0; arr != NULL && i < n; i++)
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "kty", "EC", "crv",
                                             "P-256", "x", keys[i].x, "y", keys[i].y, "kid",
                                             keys[i].kid, "alg", "ES256", "use", "sig"));
    return arr ? json_pack("{s:o}", "keys", arr) : NULL;
}

const char *ss_jwt_issuer(void)
{
    return issuer;
}

json_t *ss_jwt_user_claims(const ss_principal *p, long ttl_seconds)
{
    long long now = ss_now_s();
    char jti[37];
    json_t *c;

    if (ss_uuid(jti) != 0)
        return NULL;
    c = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:I,s:I,s:s}", "iss", issuer, "sub", p->sub,
                  "uid", p->login_id, "org", p->org_id, "org_type",
                  ss_org_type_name(p->org_type) ? ss_org_type_name(p->org_type) : "", "org_code",
                  p->org_code, "role", ss_role_name(p->role) ? ss_role_name(p->role) : "", "sid",
                  p->sid, "pwc", p->pw_change_required, "iat", (json_int_t)now, "exp",
                  (json_int_t)(now + ttl_seconds), "jti", jti);
    if (c != NULL && p->muni_code[0])
        json_object_set_new(c, "muni", json_string(p->muni_code));
    if (c != NULL && p->pref_code[0])
        json_object_set_new(c, "pref", json_string(p->pref_code));
    return c;
}

json_t *ss_jwt_vaccinee_claims(const char *person, const char *portal_client, const char *gen,
                               long ttl_seconds, char jti[37])
{
    long long now = ss_now_s();

    if (!ss_uuid_ok(person) || portal_client == NULL || gen == NULL || ss_uuid(jti) != 0)
        return NULL;
    return json_pack("{s:s,s:s,s:s,s:{s:s},s:s,s:s,s:s,s:I,s:I,s:s}", "iss", issuer, "sub", person,
                     "person_id", person, "act", "sub", portal_client, "azp", portal_client, "gen",
                     gen, "token_use", "vaccinee", "iat", (json_int_t)now, "exp",
                     (json_int_t)(now + ttl_seconds), "jti", jti);
}
