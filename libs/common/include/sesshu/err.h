/* err.h - the one error table of sesshu.
 *
 * Every library and handler function returns int: 0 on success or a negative
 * SS_ERR_* code. The same table yields the HTTP status, the problem `type`
 * slug and the problem `title` (libuv-style X-macro). */
#ifndef SESSHU_ERR_H
#define SESSHU_ERR_H

/*  X(NAME,            code, http, slug,                       title) */
#define SS_ERRORS(X)                                                                         \
    X(BAD_REQUEST, -1, 400, "bad-request", "Malformed request")                              \
    X(INVALID_JSON, -2, 400, "invalid-json", "Request body is not valid JSON")               \
    X(UNAUTHORIZED, -3, 401, "unauthorized", "Authentication required")                      \
    X(FORBIDDEN, -4, 403, "forbidden", "Not allowed")                                        \
    X(PASSWORD_CHANGE, -5, 403, "password-change-required",                                  \
      "The temporary password must be changed first")                                        \
    X(NOT_FOUND, -6, 404, "not-found", "Not found")                                          \
    X(METHOD, -7, 405, "method-not-allowed", "Method not allowed")                           \
    X(CONFLICT, -8, 409, "conflict", "Conflict with the current state")                      \
    X(TOO_LARGE, -9, 413, "payload-too-large", "Request body too large")                     \
    X(MEDIA_TYPE, -10, 415, "unsupported-media-type", "Unsupported content type")            \
    X(VALIDATION, -11, 422, "validation-failed", "Invalid fields")                           \
    X(RATE_LIMITED, -12, 429, "rate-limited", "Too many requests")                           \
    X(INTERNAL, -13, 500, "internal-error", "Internal error")                                \
    X(NOMEM, -14, 500, "internal-error", "Internal error")                                   \
    X(UNAVAILABLE, -15, 503, "service-unavailable", "A dependency is unavailable")           \
    X(RETRY, -16, 503, "service-unavailable", "Transient conflict, retry")                   \
    X(POLICY, -17, 422, "password-policy", "The password does not meet the policy")          \
    X(GONE, -18, 410, "gone", "No longer available")                                         \
    X(URI_TOO_LONG, -19, 414, "uri-too-long", "Request URI too long")                        \
    X(BAD_GATEWAY, -20, 502, "bad-gateway", "The service behind the gateway is unavailable") \
    X(GATEWAY_TIMEOUT, -21, 504, "gateway-timeout", "The service behind the gateway timed out")

enum ss_err {
    SS_OK = 0,
#define SS_ERR_ENUM_(name, code, http, slug, title) SS_ERR_##name = (code),
    SS_ERRORS(SS_ERR_ENUM_)
#undef SS_ERR_ENUM_
};

/* HTTP status for an error code (500 for unknown codes, 200 for 0). */
int ss_err_http(int err);
/* Problem type slug, e.g. "not-found". Static string. */
const char *ss_err_slug(int err);
/* Short human title. Static string. */
const char *ss_err_title(int err);
/* Symbolic name, e.g. "SS_ERR_NOT_FOUND". Static string. */
const char *ss_err_name(int err);

#endif
