/* test_sql_params.c - statement arguments by name and type (sql_params.h), against a table of the
 * shape cmake/sql_embed.cmake generates from a statement's "-- $n name: type" lines. */
#include <check.h>
#include <string.h>

#include "sesshu/err.h"
#include "sesshu/sql_params.h"
#include "unit.h"

/* -- $1 person_id: uuid / -- $2 on: date / -- $3 dose: int / -- $4 ml: numeric /
 * -- $5 note: text / -- $6 flag: boolean / -- $7 codes: text[] */
static const ss_sql_param defs[] = {
    {1, "person_id", "uuid"}, {2, "on", "date"},      {3, "dose", "int"},     {4, "ml", "numeric"},
    {5, "note", "text"},      {6, "flag", "boolean"}, {7, "codes", "text[]"}, {0, NULL, NULL},
};
static const char *const uuid = "0b5e6c52-8f0c-4c1e-9d3a-1f2e3d4c5b6a";

static void fill(ss_sql_args *a)
{
    ss_sql_args_init(a, defs);
    ss_sql_arg(a, "person_id", uuid);
    ss_sql_arg(a, "on", "2026-04-01");
    ss_sql_arg_int(a, "dose", 2);
    ss_sql_arg_num(a, "ml", 0.5, 2);
    ss_sql_arg(a, "note", NULL);
    ss_sql_arg_bool(a, "flag", true);
    ss_sql_arg(a, "codes", "{a,b}");
}

START_TEST(args_by_name_in_statement_order)
{
    ss_sql_args a;

    /* set out of order: the positions come from the table */
    ss_sql_args_init(&a, defs);
    ss_sql_arg(&a, "codes", "{a,b}");
    ss_sql_arg_bool(&a, "flag", false);
    ss_sql_arg(&a, "note", "x");
    ss_sql_arg_num(&a, "ml", 0.25, 2);
    ss_sql_arg_int(&a, "dose", -3);
    ss_sql_arg(&a, "on", "2026-04-01");
    ss_sql_arg(&a, "person_id", uuid);
    ck_assert_int_eq(ss_sql_args_done(&a), 0);
    ck_assert_int_eq(a.n, 7);
    ck_assert_str_eq(a.v[0], uuid);
    ck_assert_str_eq(a.v[1], "2026-04-01");
    ck_assert_str_eq(a.v[2], "-3");
    ck_assert_str_eq(a.v[3], "0.25");
    ck_assert_str_eq(a.v[4], "x");
    ck_assert_str_eq(a.v[5], "false");
    ck_assert_str_eq(a.v[6], "{a,b}");
    ck_assert_str_eq(a.err, "");
}
END_TEST

START_TEST(null_is_a_value)
{
    ss_sql_args a;

    fill(&a);
    ck_assert_int_eq(ss_sql_args_done(&a), 0);
    ck_assert_ptr_null(a.v[4]);
    ss_sql_arg(&a, "person_id", NULL); /* NULL of any type */
    ck_assert_int_eq(ss_sql_args_done(&a), 0);
    ck_assert_ptr_null(a.v[0]);
}
END_TEST

START_TEST(unknown_name_is_refused)
{
    ss_sql_args a;

    fill(&a);
    ss_sql_arg(&a, "person", uuid);
    ck_assert_int_eq(ss_sql_args_done(&a), SS_ERR_INTERNAL);
    ck_assert_ptr_nonnull(strstr(a.err, "person: "));
    ck_assert(ss_sql_args_has(&a, "person_id"));
    ck_assert(!ss_sql_args_has(&a, "person"));
}
END_TEST

START_TEST(unset_parameter_is_refused)
{
    ss_sql_args a;

    ss_sql_args_init(&a, defs);
    ss_sql_arg(&a, "person_id", uuid);
    ck_assert_int_eq(ss_sql_args_done(&a), SS_ERR_INTERNAL);
    ck_assert_str_eq(a.err, "on: not set");
}
END_TEST

START_TEST(wrong_type_is_refused)
{
    const struct {
        const char *name, *v;
    } bad[] = {
        {"person_id", "not-a-uuid"},
        {"on", "2026-02-30"},
        {"on", "01/04/2026"},
        {"dose", "2.5"},
        {"dose", ""},
        {"ml", "0.5.1"},
        {"ml", "abc"},
        {"flag", "t"},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ss_sql_args a;

        fill(&a);
        ss_sql_arg(&a, bad[i].name, bad[i].v);
        ck_assert_msg(ss_sql_args_done(&a) == SS_ERR_INTERNAL, "%s = %s", bad[i].name, bad[i].v);
        ck_assert_ptr_nonnull(strstr(a.err, "type"));
    }
}
END_TEST

START_TEST(first_mistake_is_kept)
{
    ss_sql_args a;

    fill(&a);
    ss_sql_arg(&a, "nope", "1");
    ss_sql_arg(&a, "dose", "x");
    ck_assert_int_eq(ss_sql_args_done(&a), SS_ERR_INTERNAL);
    ck_assert_ptr_nonnull(strstr(a.err, "nope: "));
}
END_TEST

START_TEST(table_without_names)
{
    /* a statement whose "-- $n" lines give no name: nothing can be set by name */
    static const ss_sql_param anon[] = {{1, NULL, NULL}, {2, NULL, NULL}, {0, NULL, NULL}};
    ss_sql_args a;

    ss_sql_args_init(&a, anon);
    ck_assert_int_eq(a.n, 2);
    ss_sql_arg(&a, "x", "1");
    ck_assert_int_eq(ss_sql_args_done(&a), SS_ERR_INTERNAL);
    ss_sql_args_init(&a, anon);
    ck_assert_int_eq(ss_sql_args_done(&a), SS_ERR_INTERNAL);
    ck_assert_str_eq(a.err, "?: not set");
}
END_TEST

UNIT_MAIN("sql_params", args_by_name_in_statement_order, null_is_a_value, unknown_name_is_refused,
          unset_parameter_is_refused, wrong_type_is_refused, first_mistake_is_kept,
          table_without_names)
