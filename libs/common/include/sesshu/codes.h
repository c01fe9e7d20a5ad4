/* codes.h - Japanese administrative codes with check digits (docs/domain.md §2). */
#ifndef SESSHU_CODES_H
#define SESSHU_CODES_H

#include <stdbool.h>
#include <stddef.h>

/* 全国地方公共団体コード: 6 digits, JIS X 0402 check digit. */
/* Exactly n ASCII digits (a bank, branch or account number, …). */
bool ss_code_digits(const char *s, size_t n);
bool ss_code_municipality_ok(const char *s);
/* 医療機関コード: 10 digits, digit 3 in {1,3,4}, Luhn over first 9. */
bool ss_code_institution_ok(const char *s);
/* 都道府県コード "01".."47". */
bool ss_code_prefecture_ok(const char *s);
/* 個人番号: 12 digits with its check digit. */
bool ss_code_my_number_ok(const char *s);
/* 保険者番号: 6 or 8 digits, Luhn over all but the last. */
bool ss_code_insurer_ok(const char *s);

#endif
