/* err.c - lookups in the one error table (err.h). */
#include "sesshu/err.h"

#include <stddef.h>

int ss_err_http(int err)
{
    switch (err) {
    case 0: return 200;
#define SS_CASE_(name, code, http, slug, title) \
    case code: return http;
        SS_ERRORS(SS_CASE_)
#undef SS_CASE_
    default: return 500;
    }
}

const char *ss_err_slug(int err)
{
    switch (err) {
    case 0: return "ok";
#define SS_CASE_(name, code, http, slug, title) \
    case code: return slug;
        SS_ERRORS(SS_CASE_)
#undef SS_CASE_
    default: return "internal-error";
    }
}

const char *ss_err_title(int err)
{
    switch (err) {
    case 0: return "OK";
#define SS_CASE_(name, code, http, slug, title) \
    case code: return title;
        SS_ERRORS(SS_CASE_)
#undef SS_CASE_
    default: return "Internal error";
    }
}

const char *ss_err_name(int err)
{
    switch (err) {
    case 0: return "SS_OK";
#define SS_CASE_(name, code, http, slug, title) \
    case code: return "SS_ERR_" #name;
        SS_ERRORS(SS_CASE_)
#undef SS_CASE_
    default: return "SS_ERR_UNKNOWN";
    }
}
