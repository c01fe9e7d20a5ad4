/* mail.c - plain-text UTF-8 mail over SMTP through libcurl (mail.h). */
#include "sesshu/mail.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sesshu/config.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/text.h"

typedef struct upload {
    const char *data;
    size_t len, pos;
} upload;

static size_t read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
    upload *u = arg;
    size_t n = size * nitems;

    if (n > u->len - u->pos)
        n = u->len - u->pos;
    memcpy(buf, u->data + u->pos, n);
    u->pos += n;
    return n;
}

/* Standard base64, with CRLF every 76 characters when wrap; malloc'd. */
static char *b64_lines(const char *in, size_t len, bool wrap)
{
    size_t enc_len = 4 * ((len + 2) / 3);
    unsigned char *enc = malloc(enc_len + 1);
    char *out = NULL;
    size_t o = 0;

    if (enc == NULL)
        return NULL;
    EVP_EncodeBlock(enc, (const unsigned char *)in, (int)len);
    if (!wrap)
        return (char *)enc;
    out = malloc(enc_len + 2 * (enc_len / 76 + 2) + 1);
    if (out != NULL) {
        for (size_t i = 0; i < enc_len; i += 76) {
            size_t n = enc_len - i < 76 ? enc_len - i : 76;
            memcpy(out + o, enc + i, n);
            o += n;
            out[o++] = '\r';
            out[o++] = '\n';
        }
        out[o] = '\0';
    }
    free(enc);
    return out;
}

static bool header_safe(const char *s)
{
    return s != NULL && strpbrk(s, "\r\n") == NULL;
}

int ss_mail_send(const char *to, const char *subject, const char *body)
{
    const char *from = ss_cfg_str("SESSHU_MAIL_FROM", "no-reply@sesshu.local");
    const char *url = ss_cfg_str("SESSHU_SMTP_URL", "smtp://127.0.0.1:2525");
    char *subj_b64 = NULL, *body_b64 = NULL, *msg = NULL;
    char date[64], addr[300], mid[40];
    struct curl_slist *rcpt = NULL;
    CURL *curl = NULL;
    upload u;
    size_t cap;
    time_t now = time(NULL);
    struct tm tmv;
    int rc = SS_ERR_UNAVAILABLE;

    if (!ss_email_ok(to) || !header_safe(subject) || !header_safe(from) || body == NULL)
        return SS_ERR_VALIDATION;
    subj_b64 = b64_lines(subject, strlen(subject), false);
    body_b64 = b64_lines(body, strlen(body), true);
    if (subj_b64 == NULL || body_b64 == NULL || ss_uuid(mid) != 0) {
        rc = SS_ERR_NOMEM;
        goto out;
    }
    gmtime_r(&now, &tmv);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tmv);
    cap = strlen(body_b64) + strlen(subj_b64) + strlen(to) + strlen(from) + 512;
    msg = malloc(cap);
    if (msg == NULL) {
        rc = SS_ERR_NOMEM;
        goto out;
    }
    snprintf(
        msg, cap,
        "Date: %s\r\nFrom: %s\r\nTo: %s\r\nMessage-ID: <%s@sesshu>\r\n"
        "Subject: =?UTF-8?B?%s?=\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n%s",
        date, from, to, mid, subj_b64, body_b64);
    u = (upload){.data = msg, .len = strlen(msg), .pos = 0};
    curl = curl_easy_init();
    if (curl == NULL)
        goto out;
    snprintf(addr, sizeof(addr), "<%s>", to);
    rcpt = curl_slist_append(NULL, addr);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    snprintf(addr, sizeof(addr), "<%s>", from);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, addr);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(curl, CURLOPT_READDATA, &u);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform(curl) == CURLE_OK)
        rc = 0;
out:
    curl_slist_free_all(rcpt);
    if (curl != NULL)
        curl_easy_cleanup(curl);
    free(msg);
    free(subj_b64);
    free(body_b64);
    return rc;
}
