/* authz.c - the permission matrix and ownership checks (authz.h).
 *
 * The matrix follows docs/domain.md §1 (Permissions) for the functions that exist so far.
 * Later services add their permissions to SS_PERMS and a row here. */
#include "sesshu/authz.h"

#include <string.h>

#include "sesshu/err.h"

#define BIT(p) (1ull << (p))

static const char *const org_wire[] = {NULL,
#define SS_W_(n, w, j) w,
                                       SS_ORG_TYPES(SS_W_)
#undef SS_W_
};
static const char *const org_label[] = {NULL,
#define SS_J_(n, w, j) j,
                                        SS_ORG_TYPES(SS_J_)
#undef SS_J_
};
static const char *const perm_wire[] = {"public", "authenticated",
#define SS_P_(n, w, d) w,
                                        SS_PERMS(SS_P_)
#undef SS_P_
};
static const char *const perm_desc[] = {NULL, NULL,
#define SS_D_(n, w, d) d,
                                        SS_PERMS(SS_D_)
#undef SS_D_
};

/* H-3, H-4, H-7 (records service), docs/domain.md §1: a municipality keeps its residents, their
 * records, questionnaires and maternal/child health data; an institution registers records and
 * questionnaires of its visits and reads a patient's past history; a 国保連合会 reads records for
 * claims; the ministry reads records for the DB and keeps the questionnaire templates with the
 * operator. Ownership (which persons) is the records service's check. */
static unsigned long long records_grants(int org_type)
{
    switch (org_type) {
    case SS_ORG_MUNICIPALITY:
        return BIT(SS_PERM_PERSONS_READ) | BIT(SS_PERM_PERSONS_WRITE) | BIT(SS_PERM_RECORDS_READ) |
               BIT(SS_PERM_RECORDS_WRITE) | BIT(SS_PERM_LINKAGE_READ) |
               BIT(SS_PERM_QUESTIONNAIRES_READ) | BIT(SS_PERM_MCH_READ) | BIT(SS_PERM_MCH_WRITE);
    case SS_ORG_MEDICAL:
    case SS_ORG_NONINS_MEDICAL:
        return BIT(SS_PERM_RECORDS_READ) | BIT(SS_PERM_RECORDS_WRITE) |
               BIT(SS_PERM_QUESTIONNAIRES_READ) | BIT(SS_PERM_QUESTIONNAIRES_WRITE);
    case SS_ORG_KOKUHOREN: return BIT(SS_PERM_RECORDS_READ);
    case SS_ORG_MHLW: return BIT(SS_PERM_RECORDS_READ) | BIT(SS_PERM_QUESTIONNAIRE_TEMPLATES);
    case SS_ORG_OPERATOR: return BIT(SS_PERM_QUESTIONNAIRE_TEMPLATES);
    default: return 0;
    }
}

/* H-9, H-10 and claims (payment service): an institution's admin registers its bank accounts
 * and every user of it claims; the 国保連合会 reviews accounts and claims (any user: the four
 * eyes are the institution's submitter and the federation's reviewer) and its admin keeps the
 * federation's own source accounts. */
static unsigned long long payment_grants(int org_type, bool admin)
{
    switch (org_type) {
    case SS_ORG_MEDICAL:
    case SS_ORG_NONINS_MEDICAL:
        return BIT(SS_PERM_CLAIMS_SUBMIT) | (admin ? BIT(SS_PERM_BANK_ACCOUNTS_MANAGE) : 0);
    case SS_ORG_KOKUHOREN:
        return BIT(SS_PERM_BANK_ACCOUNTS_REVIEW) | BIT(SS_PERM_CLAIMS_REVIEW) |
               (admin ? BIT(SS_PERM_PAYER_ACCOUNTS_MANAGE) : 0);
    default: return 0;
    }
}

/* Permissions of every user of an organisation type, and extra ones of its admins. */
static unsigned long long grants(int org_type, int role)
{
    unsigned long long g = BIT(SS_PERM_PROFILE);
    bool admin = role == SS_ROLE_ADMIN;

    if (admin)
        g |= BIT(SS_PERM_USERS_MANAGE);
    switch (org_type) {
    case SS_ORG_CHUOKAI:
        g |= BIT(SS_PERM_ORGS_READ_ALL) | BIT(SS_PERM_ACCESS_LOGS_READ) |
             BIT(SS_PERM_ACCESS_LOGS_VERIFY);
        if (admin)
            g |= BIT(SS_PERM_ORGS_CREATE) | BIT(SS_PERM_ACCOUNTS_MAINTAIN);
        break;
    case SS_ORG_OPERATOR:
        g |= BIT(SS_PERM_ORGS_READ_ALL) | BIT(SS_PERM_ACCESS_LOGS_READ) |
             BIT(SS_PERM_ACCESS_LOGS_VERIFY) | BIT(SS_PERM_ACCOUNTS_MAINTAIN);
        break;
    case SS_ORG_MUNICIPALITY:
        g |= BIT(SS_PERM_ACCESS_LOGS_READ);
        if (admin)
            g |= BIT(SS_PERM_API_CLIENTS_MANAGE);
        break;
    case SS_ORG_NONINS_MEDICAL:
        if (admin)
            g |= BIT(SS_PERM_API_CLIENTS_MANAGE);
        break;
    default: break;
    }
    /* H-11: notices come from the 国保中央会, the ministry, the operator, and a 国保連合会
     * for its own prefecture (the notice service pins a 国保連合会's audience to it). */
    if (org_type == SS_ORG_CHUOKAI || org_type == SS_ORG_MHLW || org_type == SS_ORG_OPERATOR ||
        org_type == SS_ORG_KOKUHOREN)
        g |= BIT(SS_PERM_NOTICES_POST);
    /* H-8: every organisation reads the masters and edits the ones it owns (the master
     * service narrows masters.write per master, docs/domain.md §10); admins bulk-import. */
    g |= BIT(SS_PERM_MASTERS_READ) | BIT(SS_PERM_MASTERS_WRITE);
    if (admin || org_type == SS_ORG_OPERATOR)
        g |= BIT(SS_PERM_MASTERS_IMPORT);
    /* H-6-1: the ministry's ad-hoc analysis of the pseudonymised statistics (stats service). */
    if (org_type == SS_ORG_MHLW)
        g |= BIT(SS_PERM_ANALYTICS_READ);
    g |= records_grants(org_type);
    g |= payment_grants(org_type, admin);
    /* H-3-3: the Mynaportal-style front ends (portal clients of the token exchange) are
     * registered by the admins of the 国保中央会 and of the operator. */
    if (admin && (org_type == SS_ORG_CHUOKAI || org_type == SS_ORG_OPERATOR))
        g |= BIT(SS_PERM_PORTAL_CLIENTS_MANAGE);
    return g;
}

static const char *const scope_wire[] = {
#define SS_S_(n, w) w,
    SS_SCOPES(SS_S_)
#undef SS_S_
};

/* The scope table (H-2): what each scope of an API client's token grants,
 * next to the role matrix above. Services that implement persons, records,
 * questionnaires, maternal-child health, masters and linkage add their
 * permission to the scope's row; a scope without a row grants nothing yet.
 * A client never holds user-only permissions (profile, users, orgs). */
static const struct {
    unsigned scope;
    int perm;
} scope_grants[] = {
    {SS_SCOPE(PERSONS_WRITE), SS_PERM_PERSONS_WRITE},
    {SS_SCOPE(PERSONS_WRITE), SS_PERM_PERSONS_READ},
    {SS_SCOPE(RECORDS_READ), SS_PERM_RECORDS_READ},
    {SS_SCOPE(RECORDS_READ), SS_PERM_PERSONS_READ},
    {SS_SCOPE(RECORDS_WRITE), SS_PERM_RECORDS_WRITE},
    {SS_SCOPE(QUESTIONNAIRES_READ), SS_PERM_QUESTIONNAIRES_READ},
    {SS_SCOPE(MCH_WRITE), SS_PERM_MCH_WRITE},
    {SS_SCOPE(MCH_WRITE), SS_PERM_MCH_READ},
    {SS_SCOPE(MASTERS_READ), SS_PERM_MASTERS_READ},
    {SS_SCOPE(LINKAGE_READ), SS_PERM_LINKAGE_READ},
};

static unsigned long long client_grants(unsigned scopes)
{
    unsigned long long g = 0;

    for (size_t i = 0; i < sizeof(scope_grants) / sizeof(scope_grants[0]); i++)
        if (scope_grants[i].scope != 0 && (scopes & scope_grants[i].scope) != 0)
            g |= BIT(scope_grants[i].perm);
    return g;
}

const char *ss_scope_name(int bit)
{
    return (bit >= 0 && bit < SS_SCOPE_COUNT_) ? scope_wire[bit] : NULL;
}

int ss_scopes_parse(const char *list, unsigned *mask)
{
    const char *p = list;

    *mask = 0;
    if (list == NULL)
        return 0;
    while (*p != '\0') {
        size_t n = strcspn(p, " ");
        int found = -1;

        if (n == 0)
            return SS_ERR_VALIDATION; /* leading, trailing or double space */
        for (int b = 0; b < SS_SCOPE_COUNT_ && found < 0; b++)
            if (strlen(scope_wire[b]) == n && strncmp(scope_wire[b], p, n) == 0)
                found = b;
        if (found < 0)
            return SS_ERR_VALIDATION;
        *mask |= 1u << found;
        p += n;
        if (*p == ' ' && *++p == '\0')
            return SS_ERR_VALIDATION;
    }
    return 0;
}

const char *ss_scopes_format(unsigned mask, char *buf, unsigned long size)
{
    size_t used = 0;

    if (size == 0)
        return buf;
    buf[0] = '\0';
    for (int b = 0; b < SS_SCOPE_COUNT_; b++) {
        size_t n = strlen(scope_wire[b]);

        if (!(mask & (1u << b)) || used + n + 2 > size)
            continue;
        if (used > 0)
            buf[used++] = ' ';
        memcpy(buf + used, scope_wire[b], n + 1);
        used += n;
    }
    return buf;
}

const char *ss_org_type_name(int t)
{
    return (t > SS_ORG_NONE && t < SS_ORG_COUNT_) ? org_wire[t] : NULL;
}

const char *ss_org_type_label(int t)
{
    return (t > SS_ORG_NONE && t < SS_ORG_COUNT_) ? org_label[t] : NULL;
}

int ss_org_type_parse(const char *wire)
{
    if (wire == NULL)
        return SS_ORG_NONE;
    for (int t = SS_ORG_NONE + 1; t < SS_ORG_COUNT_; t++)
        if (strcmp(org_wire[t], wire) == 0)
            return t;
    return SS_ORG_NONE;
}

const char *ss_role_name(int role)
{
    return role == SS_ROLE_ADMIN ? "admin" : role == SS_ROLE_USER ? "user" : NULL;
}

int ss_role_parse(const char *wire)
{
    if (wire == NULL)
        return SS_ROLE_NONE;
    if (strcmp(wire, "admin") == 0)
        return SS_ROLE_ADMIN;
    if (strcmp(wire, "user") == 0)
        return SS_ROLE_USER;
    return SS_ROLE_NONE;
}

const char *ss_perm_name(int perm)
{
    return (perm >= 0 && perm < SS_PERM_COUNT_) ? perm_wire[perm] : NULL;
}

bool ss_authz_has(const ss_principal *p, int perm)
{
    if (perm == SS_PERM_PUBLIC)
        return true;
    if (p == NULL || p->kind == SS_PRINCIPAL_NONE)
        return false;
    if (perm == SS_PERM_AUTHENTICATED)
        return true;
    if (perm < 0 || perm >= SS_PERM_COUNT_)
        return false;
    if (p->kind == SS_PRINCIPAL_CLIENT)
        return (client_grants(p->scopes) & BIT(perm)) != 0;
    if (p->kind == SS_PRINCIPAL_VACCINEE)
        return p->person_id[0] != '\0' && (perm == SS_PERM_SELF_READ || perm == SS_PERM_SELF_WRITE);
    if (p->kind != SS_PRINCIPAL_USER)
        return false;
    return (grants(p->org_type, p->role) & BIT(perm)) != 0;
}

int ss_authz_same_org(const ss_principal *p, const char *org_id)
{
    if (p == NULL || p->kind == SS_PRINCIPAL_NONE || org_id == NULL || p->org_id[0] == '\0')
        return SS_ERR_NOT_FOUND;
    return strcmp(p->org_id, org_id) == 0 ? 0 : SS_ERR_NOT_FOUND;
}

bool ss_authz_is_national(const ss_principal *p)
{
    return p != NULL && p->kind == SS_PRINCIPAL_USER &&
           (p->org_type == SS_ORG_CHUOKAI || p->org_type == SS_ORG_OPERATOR);
}

json_t *ss_authz_menu(const ss_principal *p)
{
    json_t *menu = json_array();

    if (menu == NULL)
        return NULL;
    for (int perm = SS_PERM_AUTHENTICATED + 1; perm < SS_PERM_COUNT_; perm++) {
        if (!ss_authz_has(p, perm))
            continue;
        if (json_array_append_new(menu, json_pack("{s:s,s:s}", "permission", perm_wire[perm],
                                                  "label", perm_desc[perm])) != 0) {
            json_decref(menu);
            return NULL;
        }
    }
    return menu;
}
