/* body.c - JSON request bodies: limits, parsing and declarative checks (http.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_internal.h"
#include "sesshu/body.h"
#include "sesshu/config.h"
#include "sesshu/err.h"
#include "sesshu/text.h"

long ss_http_max_body(void)
{
    static long max = -1;
    long v = 1048576;

    if (max < 0) {
        if (ss_cfg_long(SS_ENV_MAX_BODY, 1048576, 1024, 1073741824, &v) != 0)
            v = 1048576;
        max = v;
    }
    return max;
}

int ss_req_raw_body(ss_req *r, const char **data, size_t *len)
{
    long max =
        r->svc != NULL && r->svc->raw_body_max > 0 ? r->svc->raw_body_max : ss_http_max_body();

    *data = r->u->binary_body;
    *len = r->u->binary_body_length;
    if (*data == NULL)
        *len = 0;
    if ((long)*len > max)
        return ss_req_fail(r, SS_ERR_TOO_LARGE, "the body exceeds %ld bytes", max);
    return 0;
}

static bool json_media_type(const char *ct)
{
    size_t n = strlen("application/json");

    if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
        return false;
    ct += n;
    while (*ct == ' ')
        ct++;
    if (*ct == '\0')
        return true;
    if (*ct != ';')
        return false;
    ct++;
    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, "charset=utf-8", 13) == 0 && ct[13] == '\0';
}

/* Depth and string-length limits over the whole document. */
static int walk(const json_t *v, int depth)
{
    const char *key;
    json_t *child;
    size_t i;

    if (depth > SS_JSON_MAX_DEPTH)
        return -1;
    if (json_is_string(v) && json_string_length(v) > SS_JSON_MAX_STRING)
        return -2;
    if (json_is_object(v)) {
        json_object_foreach ((json_t *)(uintptr_t)v, key, child) {
            int rc;
            if (strlen(key) > 256)
                return -2;
            if ((rc = walk(child, depth + 1)) != 0)
                return rc;
        }
    } else if (json_is_array(v)) {
        json_array_foreach (v, i, child) {
            int rc = walk(child, depth + 1);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

int ss_body_parse(ss_req *r)
{
    const char *data = r->u->binary_body;
    size_t len = r->u->binary_body_length;
    json_error_t jerr;
    int rc;

    if (len == 0 || data == NULL)
        return 0; /* handlers that need a body say so through ss_body_check */
    if ((long)len > ss_http_max_body())
        return ss_req_fail(r, SS_ERR_TOO_LARGE, "the body exceeds %ld bytes", ss_http_max_body());
    if (!json_media_type(u_map_get_case(r->u->map_header, "Content-Type")))
        return ss_req_fail(r, SS_ERR_MEDIA_TYPE, "the body must be application/json");
    if (!ss_utf8_valid(data, len))
        return ss_req_fail(r, SS_ERR_INVALID_JSON, "the body is not valid UTF-8");
    r->body = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (r->body == NULL)
        return ss_req_fail(r, SS_ERR_INVALID_JSON, "line %d column %d: %s", jerr.line, jerr.column,
                           jerr.text);
    if (!json_is_object(r->body))
        return ss_req_fail(r, SS_ERR_INVALID_JSON, "the body must be a JSON object");
    rc = walk(r->body, 1);
    if (rc == -1)
        return ss_req_fail(r, SS_ERR_INVALID_JSON, "nesting deeper than %d", SS_JSON_MAX_DEPTH);
    if (rc == -2)
        return ss_req_fail(r, SS_ERR_INVALID_JSON, "a string exceeds %d bytes or a key 256",
                           SS_JSON_MAX_STRING);
    return 0;
}

static const ss_field *find_field(const ss_field *fields, const char *name)
{
    for (const ss_field *f = fields; f->name != NULL; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

static bool in_enum(const char *s, const char *const *values)
{
    for (; values != NULL && *values != NULL; values++)
        if (strcmp(*values, s) == 0)
            return true;
    return false;
}

/* One member against its field; records an error and returns false if bad. */
static bool check_value(ss_req *r, const ss_field *f, const json_t *v)
{
    long long min = f->min, max = f->max;
    char reason[128];

    if (json_is_null(v))
        return f->nullable ? true : (ss_req_field_error(r, f->name, "must not be null"), false);
    switch (f->type) {
    case SS_F_STRING:
    case SS_F_DATE:
    case SS_F_EMAIL:
    case SS_F_ENUM:
    case SS_F_TIMESTAMP: {
        const char *s;
        size_t n;
        if (!json_is_string(v))
            return ss_req_field_error(r, f->name, "must be a string"), false;
        s = json_string_value(v);
        n = ss_utf8_len(s);
        if (f->type == SS_F_DATE && !ss_date_ok(s))
            return ss_req_field_error(r, f->name, "must be a date YYYY-MM-DD"), false;
        if (f->type == SS_F_TIMESTAMP && !ss_timestamp_ok(s))
            return ss_req_field_error(r, f->name, "must be an RFC 3339 timestamp with offset"),
                   false;
        if (f->type == SS_F_EMAIL && !ss_email_ok(s))
            return ss_req_field_error(r, f->name, "must be an e-mail address"), false;
        if (f->type == SS_F_ENUM && !in_enum(s, f->values))
            return ss_req_field_error(r, f->name, "is not one of the allowed values"), false;
        if (max == 0)
            max = 1000;
        if (min == 0 && f->type == SS_F_STRING)
            min = 1;
        if ((long long)n < min || (long long)n > max) {
            snprintf(reason, sizeof(reason), "length must be %lld to %lld characters", min, max);
            return ss_req_field_error(r, f->name, reason), false;
        }
        if (f->type == SS_F_STRING) {
            for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 || *p == 0x7F)
                    return ss_req_field_error(r, f->name, "must not contain control characters"),
                           false;
        }
        return true;
    }
    case SS_F_INT:
        if (!json_is_integer(v))
            return ss_req_field_error(r, f->name, "must be an integer"), false;
        if ((min != 0 || max != 0) &&
            (json_integer_value(v) < min || json_integer_value(v) > max)) {
            snprintf(reason, sizeof(reason), "must be between %lld and %lld", min, max);
            return ss_req_field_error(r, f->name, reason), false;
        }
        return true;
    case SS_F_BOOL:
        return json_is_boolean(v)
                   ? true
                   : (ss_req_field_error(r, f->name, "must be true or false"), false);
    case SS_F_OBJECT:
        return json_is_object(v) ? true
                                 : (ss_req_field_error(r, f->name, "must be an object"), false);
    case SS_F_ARRAY:
        if (!json_is_array(v))
            return ss_req_field_error(r, f->name, "must be an array"), false;
        if (max == 0)
            max = 1000;
        if ((long long)json_array_size(v) < min || (long long)json_array_size(v) > max) {
            snprintf(reason, sizeof(reason), "must have %lld to %lld items", min, max);
            return ss_req_field_error(r, f->name, reason), false;
        }
        return true;
    default: return ss_req_field_error(r, f->name, "unsupported"), false;
    }
}

int ss_json_check(ss_req *r, const json_t *obj, const ss_field *fields)
{
    const char *key;
    json_t *v;
    bool ok = true;

    if (!json_is_object(obj))
        return ss_req_fail(r, SS_ERR_INVALID_JSON, "a JSON object is required");
    json_object_foreach ((json_t *)(uintptr_t)obj, key, v) {
        const ss_field *f = find_field(fields, key);
        if (f == NULL) {
            ss_req_field_error(r, key, "unknown field");
            ok = false;
        } else if (!check_value(r, f, v)) {
            ok = false;
        }
    }
    for (const ss_field *f = fields; f->name != NULL; f++)
        if (f->required && json_object_get(obj, f->name) == NULL) {
            ss_req_field_error(r, f->name, "is required");
            ok = false;
        }
    return ok ? 0 : SS_ERR_VALIDATION;
}

int ss_body_check(ss_req *r, const ss_field *fields)
{
    if (r->body == NULL)
        return ss_req_fail(r, SS_ERR_BAD_REQUEST, "a JSON object body is required");
    return ss_json_check(r, r->body, fields);
}

const char *ss_json_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}
