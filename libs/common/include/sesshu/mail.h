/* mail.h - outgoing mail over SMTP (libcurl).
 * Server from SESSHU_SMTP_URL (default smtp://127.0.0.1:2525), sender from
 * SESSHU_MAIL_FROM (default no-reply@sesshu.local). Plain-text UTF-8 body. */
#ifndef SESSHU_MAIL_H
#define SESSHU_MAIL_H

int ss_mail_send(const char *to, const char *subject, const char *body);

#endif
