/* test_authz.c - the permission matrix, ownership and the menu. */
#include <string.h>

#include "sesshu/authz.h"
#include "sesshu/err.h"
#include "unit.h"

static ss_principal who(int org_type, int role, const char *org)
{
    ss_principal p;

    memset(&p, 0, sizeof(p));
    p.kind = SS_PRINCIPAL_USER;
    p.org_type = org_type;
    p.role = role;
    strcpy(p.org_id, org);
    return p;
}

START_TEST(matrix)
{
    ss_principal chuo_admin = who(SS_ORG_CHUOKAI, SS_ROLE_ADMIN, "o1");
    ss_principal chuo_user = who(SS_ORG_CHUOKAI, SS_ROLE_USER, "o1");
    ss_principal muni_admin = who(SS_ORG_MUNICIPALITY, SS_ROLE_ADMIN, "o2");
    ss_principal muni_user = who(SS_ORG_MUNICIPALITY, SS_ROLE_USER, "o2");
    ss_principal med_admin = who(SS_ORG_MEDICAL, SS_ROLE_ADMIN, "o3");
    ss_principal oper = who(SS_ORG_OPERATOR, SS_ROLE_USER, "o4");
    ss_principal nobody;

    memset(&nobody, 0, sizeof(nobody));
    ck_assert(ss_authz_has(&chuo_admin, SS_PERM_ORGS_CREATE));
    ck_assert(!ss_authz_has(&chuo_user, SS_PERM_ORGS_CREATE));
    ck_assert(!ss_authz_has(&muni_admin, SS_PERM_ORGS_CREATE));
    ck_assert(ss_authz_has(&muni_admin, SS_PERM_USERS_MANAGE));
    ck_assert(!ss_authz_has(&muni_user, SS_PERM_USERS_MANAGE));
    ck_assert(ss_authz_has(&muni_user, SS_PERM_ACCESS_LOGS_READ));
    ck_assert(!ss_authz_has(&muni_user, SS_PERM_ACCESS_LOGS_VERIFY));
    ck_assert(!ss_authz_has(&med_admin, SS_PERM_ACCESS_LOGS_READ));
    ck_assert(ss_authz_has(&oper, SS_PERM_ACCESS_LOGS_VERIFY));
    ck_assert(ss_authz_has(&nobody, SS_PERM_PUBLIC));
    ck_assert(!ss_authz_has(&nobody, SS_PERM_AUTHENTICATED));
    ck_assert(!ss_authz_has(&nobody, SS_PERM_PROFILE));
    ck_assert(ss_authz_has(&chuo_admin, SS_PERM_PORTAL_CLIENTS_MANAGE));
    ck_assert(!ss_authz_has(&chuo_user, SS_PERM_PORTAL_CLIENTS_MANAGE));
    ck_assert(!ss_authz_has(&muni_admin, SS_PERM_PORTAL_CLIENTS_MANAGE));
    ck_assert(!ss_authz_has(&oper, SS_PERM_PORTAL_CLIENTS_MANAGE));
    oper.role = SS_ROLE_ADMIN;
    ck_assert(ss_authz_has(&oper, SS_PERM_PORTAL_CLIENTS_MANAGE));
    oper.role = SS_ROLE_USER;
    ck_assert(ss_authz_is_national(&chuo_user));
    ck_assert(!ss_authz_is_national(&muni_admin));
}
END_TEST

START_TEST(ownership)
{
    ss_principal a = who(SS_ORG_MUNICIPALITY, SS_ROLE_ADMIN, "org-a");

    ck_assert_int_eq(ss_authz_same_org(&a, "org-a"), 0);
    ck_assert_int_eq(ss_authz_same_org(&a, "org-b"), SS_ERR_NOT_FOUND);
    ck_assert_int_eq(ss_authz_same_org(&a, NULL), SS_ERR_NOT_FOUND);
}
END_TEST

START_TEST(names_and_menu)
{
    ss_principal muni_user = who(SS_ORG_MUNICIPALITY, SS_ROLE_USER, "o2");
    json_t *menu = ss_authz_menu(&muni_user);

    ck_assert_int_eq(ss_org_type_parse("non_insurance_medical_institution"), SS_ORG_NONINS_MEDICAL);
    ck_assert_int_eq(ss_org_type_parse("hospital"), SS_ORG_NONE);
    ck_assert_str_eq(ss_org_type_label(SS_ORG_KOKUHOREN), "国保連合会");
    ck_assert_int_eq(ss_role_parse("admin"), SS_ROLE_ADMIN);
    ck_assert_int_eq(ss_role_parse("root"), SS_ROLE_NONE);
    ck_assert_ptr_nonnull(menu);
    /* profile, access_logs.read, masters.read/write, and the municipality's eight of the
     * records service (persons, records, linkage, questionnaires, maternal/child health). */
    ck_assert_uint_eq(json_array_size(menu), 12);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(menu, 0), "permission")),
                     "profile");
    json_decref(menu);
}
END_TEST

START_TEST(vaccinee)
{
    ss_principal v;

    memset(&v, 0, sizeof(v));
    v.kind = SS_PRINCIPAL_VACCINEE;
    ck_assert(!ss_authz_has(&v, SS_PERM_SELF_READ)); /* not bound to a person */
    strcpy(v.person_id, "6f1c1d1e-0000-4000-8000-0000000000aa");
    ck_assert(ss_authz_has(&v, SS_PERM_SELF_READ));
    ck_assert(ss_authz_has(&v, SS_PERM_SELF_WRITE));
    ck_assert(ss_authz_has(&v, SS_PERM_AUTHENTICATED));
    for (int perm = SS_PERM_AUTHENTICATED + 1; perm < SS_PERM_COUNT_; perm++)
        if (perm != SS_PERM_SELF_READ && perm != SS_PERM_SELF_WRITE)
            ck_assert_msg(!ss_authz_has(&v, perm), "a vaccinee holds %s", ss_perm_name(perm));
    ck_assert(!ss_authz_is_national(&v));
}
END_TEST

UNIT_MAIN("authz", matrix, ownership, names_and_menu, vaccinee)
