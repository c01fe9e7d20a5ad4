/* test_audit_batch.c - a group-commit batch as audit.append's array
 * arguments (audit_batch.h): quoting, NULL against "" and "NULL", order. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/audit_batch.h"
#include "unit.h"

static ss_audit_row row_of(const char *rid, const char *login, int status)
{
    ss_audit_row r = {.request_id = rid,
                      .service = "svc",
                      .actor_kind = "user",
                      .actor_login = login,
                      .method = "GET",
                      .status = status,
                      .client_ip = "::1",
                      .duration_us = 7};
    return r;
}

START_TEST(batch_quotes_every_text)
{
    ss_audit_row a = row_of("r1", "NULL", 200), b = row_of("r\"2", "back\\slash", 403);
    ss_audit_row c = row_of("r3", "", 500);
    const ss_audit_row *rows[] = {&a, &b, &c};
    ss_audit_batch batch = {0};

    c.actor_login = NULL;
    b.path = "{x,y} z";
    ck_assert_int_eq(ss_audit_batch_build(&batch, "svc/h/2", rows, 3), 0);
    ck_assert_str_eq(batch.param[0], "{\"r1\",\"r\\\"2\",\"r3\"}");        /* request_id */
    ck_assert_str_eq(batch.param[3], "{NULL,NULL,NULL}");                  /* actor_id */
    ck_assert_str_eq(batch.param[4], "{\"NULL\",\"back\\\\slash\",NULL}"); /* actor_login */
    ck_assert_str_eq(batch.param[11], "{NULL,\"{x,y} z\",NULL}");          /* path */
    ck_assert_str_eq(batch.param[17], "{\"::1\",\"::1\",\"::1\"}");        /* client_ip */
    ck_assert_str_eq(batch.param[18], "{200,403,500}");                    /* status */
    ck_assert_str_eq(batch.param[19], "{7,7,7}");                          /* duration_us */
    ck_assert_str_eq(batch.param[20], "svc/h/2");                          /* stream */
    ss_audit_batch_free(&batch);
    for (int k = 0; k < SS_AUDIT_BATCH_NPARAMS; k++)
        ck_assert_ptr_null(batch.param[k]);
}
END_TEST

START_TEST(batch_of_one_and_empty_text)
{
    ss_audit_row a = row_of("", "", 0);
    const ss_audit_row *rows[] = {&a};
    ss_audit_batch batch = {0};

    ck_assert_int_eq(ss_audit_batch_build(&batch, "s", rows, 1), 0);
    ck_assert_str_eq(batch.param[0], "{\"\"}");
    ck_assert_str_eq(batch.param[4], "{\"\"}");
    ck_assert_str_eq(batch.param[18], "{0}");
    ck_assert_ptr_nonnull(strstr(batch.param[9], "GET"));
    ss_audit_batch_free(&batch);
}
END_TEST

UNIT_MAIN("audit_batch", batch_quotes_every_text, batch_of_one_and_empty_text)
