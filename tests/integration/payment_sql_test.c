/* payment_sql_test.c - every statement of services/payment/sql prepares against the migrated
 * schema.
 *
 * The payment service's behaviour is tested over HTTP (tests/api/payment-*.test.mjs); this one
 * needs no server: it opens a pool as the service's own database user (scripts/test.sh exports
 * SESSHU_DB_*, and the stack has run the migrations) and runs ss_sql_check over pay_sql_all. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "pay.h"
#include "sesshu/db.h"
#include "sesshu/sql.h"

START_TEST(sql_files_prepare)
{
    char *conninfo = ss_db_conninfo(pay_service.env_name);
    ss_db *db = NULL;
    char err[2048];
    int rc;

    ck_assert_ptr_nonnull(conninfo);
    ck_assert_int_eq(ss_db_open(&db, conninfo, 1), 0);
    rc = ss_sql_check(db, pay_sql_all, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "a statement does not prepare: %s\n", err);
    ss_db_close(db);
    free(conninfo);
    ck_assert_int_eq(rc, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("payment_sql");
    TCase *tc = tcase_create("sql");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, sql_files_prepare);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
