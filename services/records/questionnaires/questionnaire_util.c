/* questionnaire_util.c - master code lists in template bodies and query filters (H-4/H-7);
 * query parameters, pages and replies are records core's helpers (records_util.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "questionnaire.h"
#include "sesshu/body.h"
#include "sesshu/err.h"

bool rec_qm_master_code_ok(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    if (n < 1 || n > 20)
        return false;
    return strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-") == n;
}

int rec_qm_code_list(ss_req *r, const char *field, const json_t *arr, size_t max, char **out)
{
    json_t *copy = json_array(), *v;
    size_t i;
    char name[64];

    *out = NULL;
    if (copy == NULL)
        return SS_ERR_NOMEM;
    if (arr != NULL && (!json_is_array(arr) || json_array_size(arr) > max)) {
        json_decref(copy);
        snprintf(name, sizeof(name), "must be an array of at most %zu codes", max);
        return ss_req_field_error(r, field, name);
    }
    json_array_foreach (arr, i, v) {
        bool dup = false;

        for (size_t k = 0; k < i && !dup; k++)
            dup = json_equal(v, json_array_get(arr, k));
        snprintf(name, sizeof(name), "%s[%zu]", field, i);
        if (!rec_qm_master_code_ok(json_string_value(v)) || dup)
            ss_req_field_error(r, name, dup ? "is repeated" : "is not a valid code");
        else
            json_array_append(copy, v);
    }
    *out = json_dumps(copy, SS_JSON_COMPACT);
    json_decref(copy);
    return *out == NULL ? SS_ERR_NOMEM : 0;
}
