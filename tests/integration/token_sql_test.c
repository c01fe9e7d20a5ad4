/* token_sql_test.c - every statement of services/token/sql prepares against the migrated schema
 * (it_sql_files_main, harness.h). The token service has no in-process suite yet (issue 16 §5). */
#include "harness.h"
#include "tok.h"

int main(void)
{
    return it_sql_files_main(&tok_service, tok_sql_all);
}
