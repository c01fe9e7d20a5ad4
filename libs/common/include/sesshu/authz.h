/* authz.h - principals, organisation types, roles, permissions: the one
 * authorisation path every handler uses.
 *
 * The permission matrix is a single table (authz.c): (org type, role) ->
 * permissions. A route declares the permission it needs; the dispatcher
 * refuses with 403 before the handler runs. Ownership (is this resource in
 * the caller's organisation / municipality?) is checked by the handler, but
 * only through ss_authz_same_org() / ss_authz_muni(), never by hand. */
#ifndef SESSHU_AUTHZ_H
#define SESSHU_AUTHZ_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/*  X(NAME,                  wire name,                          日本語) */
#define SS_ORG_TYPES(X)                                                      \
    X(CHUOKAI, "chuokai", "国保中央会")                                      \
    X(KOKUHOREN, "kokuhoren", "国保連合会")                                  \
    X(MUNICIPALITY, "municipality", "市区町村")                              \
    X(MEDICAL, "medical_institution", "医療機関")                            \
    X(NONINS_MEDICAL, "non_insurance_medical_institution", "非保険医療機関") \
    X(MHLW, "mhlw", "厚生労働省")                                            \
    X(OPERATOR, "operator", "運用保守事業者")

enum ss_org_type {
    SS_ORG_NONE = 0,
#define SS_ORG_ENUM_(n, w, j) SS_ORG_##n,
    SS_ORG_TYPES(SS_ORG_ENUM_)
#undef SS_ORG_ENUM_
        SS_ORG_COUNT_
};

enum ss_role { SS_ROLE_NONE = 0, SS_ROLE_USER = 1, SS_ROLE_ADMIN = 2 };

/* Permissions. A route needs one (or SS_PERM_PUBLIC / SS_PERM_AUTHENTICATED).
 *  X(NAME,           wire name,                description for the menu) */
#define SS_PERMS(X)                                                                                \
    X(PROFILE, "profile", "自分のユーザ情報・パスワードの変更")                                    \
    X(ORGS_CREATE, "organizations.create", "組織と初回管理者ユーザの発行 (H-1-1)")                 \
    X(ORGS_READ_ALL, "organizations.read_all", "全組織の参照")                                     \
    X(USERS_MANAGE, "users.manage", "組織内ユーザの発行・変更 (H-1-2, H-1-4)")                     \
    X(ACCESS_LOGS_READ, "access_logs.read", "アクセスログの照会 (H-12)")                           \
    X(ACCESS_LOGS_VERIFY, "access_logs.verify", "アクセスログ改ざん検証 (H-12)")                   \
    X(ACCOUNTS_MAINTAIN, "accounts.maintain", "アカウント自動停止ジョブの実行 (H-1-8)")            \
    X(API_CLIENTS_MANAGE, "api_clients.manage", "外部システム連携用APIクライアントの管理 (H-2)")   \
    X(NOTICES_POST, "notices.post", "お知らせの発信 (H-11)")                                       \
    X(MASTERS_READ, "masters.read", "マスタの参照 (H-8-9)")                                        \
    X(MASTERS_WRITE, "masters.write", "マスタの登録・更新 (H-8-1 … H-8-6)")                        \
    X(MASTERS_IMPORT, "masters.import", "マスタの一括取込・連携 (H-8-7, H-8-8)")                   \
    X(PERSONS_READ, "persons.read", "接種対象者の照会 (H-3-2)")                                    \
    X(PERSONS_WRITE, "persons.write", "接種対象者の登録・更新 (H-3-1)")                            \
    X(RECORDS_READ, "records.read", "接種記録の照会 (H-3-2)")                                      \
    X(RECORDS_WRITE, "records.write", "接種記録の登録・訂正 (H-3)")                                \
    X(LINKAGE_READ, "linkage.read", "健康管理システム連携フィード (H-3-1)")                        \
    X(QUESTIONNAIRES_READ, "questionnaires.read", "予診票の照会 (H-4-1)")                          \
    X(QUESTIONNAIRES_WRITE, "questionnaires.write", "予診票の登録・医師記入 (H-4)")                \
    X(QUESTIONNAIRE_TEMPLATES, "questionnaire_templates.manage", "予診票様式の管理 (H-4)")         \
    X(MCH_READ, "mch.read", "母子保健・健診情報の照会 (H-7)")                                      \
    X(MCH_WRITE, "mch.write", "母子保健・健診情報の登録 (H-7-1, H-7-2)")                           \
    X(SELF_READ, "self.read", "本人・子の接種記録等の閲覧 (H-3-3)")                                \
    X(SELF_WRITE, "self.write", "本人・子の予診票の事前入力 (H-4)")                                \
    X(PORTAL_CLIENTS_MANAGE, "portal_clients.manage",                                              \
      "マイナポータル連携クライアントの登録 (H-3-3)")                                              \
    X(BANK_ACCOUNTS_MANAGE, "bank_accounts.manage", "振込口座の登録・再申請 (H-9)")                \
    X(BANK_ACCOUNTS_REVIEW, "bank_accounts.review", "医療機関の振込口座の承認 (H-9)")              \
    X(PAYER_ACCOUNTS_MANAGE, "payer_accounts.manage", "連合会口座と金融機関コードの紐付け (H-10)") \
    X(CLAIMS_SUBMIT, "claims.submit", "接種費用の請求 (請求)")                                     \
    X(CLAIMS_REVIEW, "claims.review", "請求の事務点検・請求書・支払 (国保連合会)")                 \
    X(ANALYTICS_READ, "analytics.read", "接種状況の非定型分析 (H-6-1)")

enum ss_perm {
    SS_PERM_PUBLIC = 0,        /* no authentication */
    SS_PERM_AUTHENTICATED = 1, /* any valid principal */
#define SS_PERM_ENUM_(n, w, d) SS_PERM_##n,
    SS_PERMS(SS_PERM_ENUM_)
#undef SS_PERM_ENUM_
        SS_PERM_COUNT_
};

/* VACCINEE: a person (接種対象者) through the Mynaportal-style front end, with a token bound
 * to one verified person (person_id); holds self.read and self.write only. */
enum ss_principal_kind {
    SS_PRINCIPAL_NONE = 0,
    SS_PRINCIPAL_USER = 1,
    SS_PRINCIPAL_CLIENT = 2,
    SS_PRINCIPAL_VACCINEE = 3
};

/* Who is calling. Filled by the dispatcher from a verified token; handlers
 * only read it. Fixed-size, no heap. */
typedef struct ss_principal {
    int kind;          /* enum ss_principal_kind */
    char sub[40];      /* user uuid or client id */
    char login_id[72]; /* user's login ID (users only) */
    char org_id[40];   /* organisation uuid */
    int org_type;      /* enum ss_org_type */
    char org_code[24]; /* organisation code */
    char muni_code[8]; /* municipality code when org_type is MUNICIPALITY */
    char pref_code[4]; /* prefecture code "01".."47" where known */
    int role;          /* enum ss_role */
    char sid[40];      /* session id (users) or jti (clients) */
    bool pw_change_required;
    long long exp; /* expiry, unix seconds */
    long long iat; /* issued at, unix seconds (org revocations compare with it) */
    /* Clients only (appended: the members above keep their layout). */
    unsigned scopes;     /* bitmask of SS_SCOPE_* granted to the token */
    char client_gen[40]; /* the client's generation id: revoking it refuses every token */
    /* Vaccinees only: the records service's person id the token is bound to. */
    char person_id[40];
} ss_principal;

/* API client scopes (H-2): a fixed list. A scope grants the permissions of
 * the scope table in authz.c, and only inside the client's organisation.
 *  X(NAME,               wire name) */
#define SS_SCOPES(X)                              \
    X(PERSONS_WRITE, "persons:write")             \
    X(RECORDS_READ, "records:read")               \
    X(RECORDS_WRITE, "records:write")             \
    X(QUESTIONNAIRES_READ, "questionnaires:read") \
    X(MCH_WRITE, "mch:write")                     \
    X(MASTERS_READ, "masters:read")               \
    X(LINKAGE_READ, "linkage:read")

enum ss_scope_bit {
#define SS_SCOPE_BIT_(n, w) SS_SCOPE_BIT_##n,
    SS_SCOPES(SS_SCOPE_BIT_)
#undef SS_SCOPE_BIT_
        SS_SCOPE_COUNT_
};
#define SS_SCOPE(n) (1u << SS_SCOPE_BIT_##n)

/* Wire name of one scope bit (index 0..SS_SCOPE_COUNT_-1), or NULL. */
const char *ss_scope_name(int bit);
/* Bitmask of a space-separated scope list (RFC 6749 3.3). Returns 0 and
 * sets *mask, or SS_ERR_VALIDATION for an unknown or malformed scope. */
int ss_scopes_parse(const char *list, unsigned *mask);
/* Space-separated wire names of mask into buf (size >= 160). */
const char *ss_scopes_format(unsigned mask, char *buf, unsigned long size);

const char *ss_org_type_name(int org_type);  /* wire name or NULL */
const char *ss_org_type_label(int org_type); /* 日本語 or NULL */
int ss_org_type_parse(const char *wire);     /* SS_ORG_NONE if unknown */
const char *ss_role_name(int role);          /* "admin" / "user" / NULL */
int ss_role_parse(const char *wire);         /* SS_ROLE_NONE if unknown */
const char *ss_perm_name(int perm);

/* Does the principal hold the permission? PUBLIC is always true,
 * AUTHENTICATED is true for any principal. */
bool ss_authz_has(const ss_principal *p, int perm);

/* 0 if org_id is the principal's own organisation, else SS_ERR_NOT_FOUND
 * (another tenant's resource is "not found", never "forbidden"). */
int ss_authz_same_org(const ss_principal *p, const char *org_id);

/* Can see everything across tenants (国保中央会 and the operator). */
bool ss_authz_is_national(const ss_principal *p);

/* The menu for /me: a new JSON array of {"permission","label"} the caller
 * owns (json_decref). NULL on allocation failure. */
json_t *ss_authz_menu(const ss_principal *p);

#endif
