/* payment_sql_test.c - every statement of services/payment/sql prepares against the migrated schema
 * (it_sql_files_main, harness.h). The payment service's behaviour is tested over HTTP
 * (tests/api/payment-*.test.mjs). */
#include "harness.h"
#include "pay.h"

int main(void)
{
    return it_sql_files_main(&pay_service, pay_sql_all);
}
