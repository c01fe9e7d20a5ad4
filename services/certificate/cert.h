/* cert.h - what the certificate service's files share (prefix cert_): the service, its
 * handlers, the SMART Health Card issuer keys and codec, the QR code, the PDF, the records the
 * service reads over HTTP and the feed that keeps the log's statuses current.
 *
 * Ownership: functions returning json_t* give a new reference (json_decref); char* and
 * unsigned char* results are malloc'd (free). */
#ifndef CERT_H
#define CERT_H

#include <cairo.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cert_sql.h" /* generated from sql/<resource>.sql (cmake/sesshu_sql.cmake) */
#include "sesshu/http.h"
#include "sesshu/server.h"
#include "sesshu/sql.h"

#define CERT_ENV_SHC_KEY     "SESSHU_CERTIFICATE_SHC_KEY_FILE" /* the issuer's signing key (PEM) */
#define CERT_ENV_SHC_KEY_DIR "SESSHU_CERTIFICATE_SHC_KEY_DIR"  /* earlier keys still published */
#define CERT_ENV_SHC_ISSUER  "SESSHU_CERTIFICATE_SHC_ISSUER"   /* default <JWT issuer>/shc */
#define CERT_ENV_SYNC_MS     "SESSHU_CERTIFICATE_SYNC_MS" /* min. ms between feed polls, def 0 */
#define CERT_ENV_PDF_FONT    "SESSHU_CERTIFICATE_PDF_OWN_FONT" /* the derived face, def 1 */
#define CERT_ENV_QR_CACHE    "SESSHU_CERTIFICATE_QR_CACHE"     /* QR symbols kept, def 64, 0 none */
#define CERT_ENV_GROUP       "SESSHU_CERTIFICATE_GROUP_COMMIT" /* issuances share commits, def 1 */

#define CERT_JWS_MAX     8192  /* characters of a card we accept to verify */
#define CERT_PAYLOAD_MAX 65536 /* bytes of an inflated payload */
#define CERT_DOSES_MAX   60
#define CERT_PAPER_MAX   20 /* paper doses entered with one issuance (H-5-3) */

extern const ss_service cert_service;

/* ---- shc.c: issuer keys, JWS (ES256, zip DEF), rid ---- */
int cert_keys_init(void);
void cert_keys_free(void);
const char *cert_issuer(void);      /* the SHC iss (static) */
const char *cert_signing_kid(void); /* kid of the current signing key (static) */
bool cert_kid_known(const char *kid);
/* {"keys": [...]} of every published key, crlVersion from ctr(kid) (a callback, may be NULL). */
json_t *cert_jwks(long (*ctr)(const char *kid));
/* JWS compact of the payload (minified JSON, raw DEFLATE, ES256, kid). *jws malloc'd. */
int cert_jws_sign(const json_t *payload, char **jws);
/* Verify a card: 0 and *payload (new reference) and kid (48 bytes), or a reason slug in *why
 * ("malformed", "unsupported-header", "unknown-key", "bad-signature", "not-deflated",
 * "bad-payload") and SS_ERR_VALIDATION. */
int cert_jws_verify(const char *jws, json_t **payload, char kid[48], const char **why);
/* The card's revocation id: base64url of HMAC-SHA-256 over kid and certificate id, 64 bits. */
int cert_rid(const char *kid, const char *cert_id, char out[16]);
/* "shc:/<digits>" -> JWS (malloc'd) or NULL when the text is not a single-chunk numeric QR. */
char *cert_shc_numeric_decode(const char *text);
/* JWS -> "shc:/<digits>" (malloc'd). */
char *cert_shc_numeric_encode(const char *jws);

/* ---- card.c: the FHIR bundle and the card payload ---- */
/* The SHC payload {iss, nbf, vc} for person {name, birth_date} and doses (each with
 * vaccinated_on, vaccine_code, lot_no, institution_name, dose_number). */
json_t *cert_card_payload(const json_t *person, const json_t *doses, const char *rid,
                          long long nbf);
/* What a verifier may show: {patient, doses} read from a payload (only what the card holds). */
json_t *cert_card_decode(const json_t *payload);

/* ---- qr.c ---- */
int cert_qr_png(const char *jws, unsigned char **png, size_t *len);
int cert_qr_svg(const char *jws, char **svg);
/* The QR modules: width and a width*width array (1 = dark); malloc'd. */
int cert_qr_modules(const char *jws, int *width, unsigned char **mods);

/* ---- pdf.c, font.c ---- */
/* The A4 Japanese certificate of cert (cert_json) with its card's QR. */
int cert_pdf(const json_t *cert, const char *jws, unsigned char **pdf, size_t *len);
/* Make the page's face once (cert_pdf does it on its first call; start-up calls it so that no
 * request waits for it). */
void cert_pdf_init(void);
/* The face the text is drawn with: IPAex Gothic without character map and hinting, named
 * `family` (font.c). 0 or SS_ERR_INTERNAL. */
int cert_font_load(const char *family);
/* That face at the size, matrix and options of pango's scaled font f (a reference), when f is
 * IPAex Gothic; NULL otherwise or before the face is loaded. */
cairo_scaled_font_t *cert_font_for(cairo_scaled_font_t *f);

/* ---- sources.c: the person and records, read from the records service ---- */
/* For the caller (vaccinee token or municipality staff, forwarded as is): the person (as the
 * records service shows it to the caller) and its current (not voided) records. Staff only:
 * `paper` (or NULL), doses to enter first (paper.c), once the person is known to be a current
 * resident; their new ids are appended to `fresh`. 0, or SS_ERR_NOT_FOUND /
 * SS_ERR_UNAVAILABLE / SS_ERR_FORBIDDEN / SS_ERR_VALIDATION (with r->detail). */
int cert_fetch_person(ss_req *r, const char *person_id, const json_t *paper, json_t *fresh,
                      json_t **person, json_t **records);
/* The vaccinee's family: array of person ids (self first). */
int cert_fetch_family(ss_req *r, json_t **ids);

/* ---- paper.c: H-5-3, doses entered from paper in the issuance request ---- */
/* Check every dose of `doses` with the records service (nothing written), then register each
 * (source paper, the caller's token); the new record ids are appended to `fresh`. A refused
 * dose: SS_ERR_VALIDATION with a field error paper_doses[i]. */
int cert_paper_register(ss_req *r, const char *person_id, const json_t *doses, json_t *fresh);

/* ---- sync.c: the records change feed ---- */
/* Catch up with the records service's corrections (single flight; at most every SYNC_MS).
 * Failures are logged and leave the stored statuses as they are; returns 0 or an error. */
int cert_sync(void);
int cert_sync_init(void);

/* ---- handlers ---- */
int cert_h_issue_self(ss_req *r);  /* POST /api/v1/certificates/self */
int cert_h_issue_staff(ss_req *r); /* POST /api/v1/certificates */
int cert_h_list_staff(ss_req *r);  /* GET /api/v1/certificates */
int cert_h_list_self(ss_req *r);   /* GET /api/v1/certificates/self */
int cert_h_get(ss_req *r);         /* GET /api/v1/certificates/:id */
int cert_h_file(ss_req *r);        /* GET /api/v1/certificates/:id/shc */
int cert_h_qr(ss_req *r);          /* GET /api/v1/certificates/:id/qr */
int cert_h_pdf(ss_req *r);         /* GET /api/v1/certificates/:id/pdf */
int cert_h_revoke(ss_req *r);      /* POST /api/v1/certificates/:id/revoke */
int cert_h_verify(ss_req *r);      /* POST /api/v1/certificates/verify */
int cert_h_jwks(ss_req *r);        /* GET /shc/.well-known/jwks.json */
int cert_h_crl(ss_req *r);         /* GET /shc/.well-known/crl/:file */

/* ---- access (log.c) ---- */
bool cert_is_staff(const ss_req *r);    /* a municipality user with records.read */
bool cert_is_vaccinee(const ss_req *r); /* a vaccinee token */
/* Load certificate :id the caller may see: cert_json in *cert, jws in *jws (malloc'd, may be
 * NULL when not wanted). 404 for anything else. */
int cert_load(ss_req *r, const char *id, json_t **cert, char **jws);

#endif
