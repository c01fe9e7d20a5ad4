/* test_db_conninfo.c - the services' connection strings (db.c): several servers, the session
 * attributes that pick the primary (writes) or a standby (heavy reads), and what a failover's
 * SQLSTATEs become. No database: libpq only parses the strings. */
#include <stdlib.h>
#include <string.h>

#include "sesshu/db.h"
#include "sesshu/err.h"
#include "unit.h"

/* The value of `key` in a parsed conninfo, or NULL. */
static char *opt(const char *conninfo, const char *key)
{
    PQconninfoOption *o = PQconninfoParse(conninfo, NULL);
    char *v = NULL;

    for (PQconninfoOption *p = o; p != NULL && p->keyword != NULL; p++)
        if (strcmp(p->keyword, key) == 0 && p->val != NULL)
            v = strdup(p->val);
    PQconninfoFree(o);
    return v;
}

START_TEST(multi_host_read_write)
{
    char *ci, *v;

    setenv("SESSHU_DB_HOST", "127.0.0.1,127.0.0.2", 1);
    setenv("SESSHU_DB_PORT", "15402,15403", 1);
    unsetenv("SESSHU_DB_TARGET_SESSION_ATTRS");
    ci = ss_db_conninfo("RECORDS");
    ck_assert_ptr_nonnull(ci);
    ck_assert_str_eq((v = opt(ci, "host")), "127.0.0.1,127.0.0.2");
    free(v);
    ck_assert_str_eq((v = opt(ci, "port")), "15402,15403");
    free(v);
    ck_assert_str_eq((v = opt(ci, "target_session_attrs")), "read-write");
    free(v);
    ck_assert_str_eq((v = opt(ci, "user")), "sesshu_records");
    free(v);
    free(ci);
}
END_TEST

START_TEST(read_pool_prefers_a_standby)
{
    char *ci, *v;

    unsetenv("SESSHU_DB_READ_TARGET_SESSION_ATTRS");
    ci = ss_db_conninfo_read("STATS");
    ck_assert_str_eq((v = opt(ci, "target_session_attrs")), "prefer-standby");
    free(v);
    free(ci);
    setenv("SESSHU_DB_READ_TARGET_SESSION_ATTRS", "standby", 1);
    ci = ss_db_conninfo_read("STATS");
    ck_assert_str_eq((v = opt(ci, "target_session_attrs")), "standby");
    free(v);
    free(ci);
    /* Not a libpq value (nor a way to add options): the default. */
    setenv("SESSHU_DB_READ_TARGET_SESSION_ATTRS", "any sslmode=disable", 1);
    ci = ss_db_conninfo_read("STATS");
    ck_assert_str_eq((v = opt(ci, "target_session_attrs")), "prefer-standby");
    free(v);
    free(ci);
}
END_TEST

START_TEST(failover_states_are_unavailable)
{
    ck_assert_int_eq(ss_db_map_sqlstate("25006"), SS_ERR_UNAVAILABLE); /* read-only: a standby */
    ck_assert_int_eq(ss_db_map_sqlstate("57P01"), SS_ERR_UNAVAILABLE); /* admin shutdown */
    ck_assert_int_eq(ss_db_map_sqlstate("08006"), SS_ERR_UNAVAILABLE);
    ck_assert_int_eq(ss_db_map_sqlstate("23505"), SS_ERR_CONFLICT);
}
END_TEST

UNIT_MAIN("db_conninfo", multi_host_read_write, read_pool_prefers_a_standby,
          failover_states_are_unavailable)
