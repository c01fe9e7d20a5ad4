/* service.c - the certificate service's routes (H-5). Paper issuance and the staff log need a
 * municipality user (cert_is_staff: records.read in the library's matrix); the portal routes a
 * vaccinee token (self.read); verify and the issuer's key set and revocation lists are public.
 * Static paths never share a method and depth with a /:id pattern, so order does not matter. */
#include "cert.h"
#include "sesshu/err.h"
#include "sesshu/server.h"

#define AUTH SS_PERM_AUTHENTICATED
#define SELF SS_PERM_SELF_READ

static const ss_route routes[] = {
    {"POST", "/api/v1/certificates", cert_h_issue_staff, AUTH, 0, "certificate"},
    {"GET", "/api/v1/certificates", cert_h_list_staff, AUTH, 0, "certificate"},
    {"POST", "/api/v1/certificates/self", cert_h_issue_self, SELF, 0, "certificate"},
    {"GET", "/api/v1/certificates/self", cert_h_list_self, SELF, 0, "certificate"},
    {"POST", "/api/v1/certificates/verify", cert_h_verify, SS_PERM_PUBLIC, 0, "certificate"},
    {"GET", "/api/v1/certificates/:id", cert_h_get, AUTH, 0, "certificate"},
    {"GET", "/api/v1/certificates/:id/shc", cert_h_file, AUTH, 0, "certificate"},
    {"GET", "/api/v1/certificates/:id/qr", cert_h_qr, AUTH, 0, "certificate"},
    {"GET", "/api/v1/certificates/:id/pdf", cert_h_pdf, AUTH, 0, "certificate"},
    {"POST", "/api/v1/certificates/:id/revoke", cert_h_revoke, AUTH, 0, "certificate"},
    {"GET", "/shc/.well-known/jwks.json", cert_h_jwks, SS_PERM_PUBLIC, 0, "shc_jwks"},
    {"GET", "/shc/.well-known/crl/:file", cert_h_crl, SS_PERM_PUBLIC, 0, "shc_crl"},
    {NULL, NULL, NULL, 0, 0, NULL},
};

static int cert_init(ss_db *db)
{
    int rc;

    (void)db;
    if ((rc = cert_keys_init()) != 0 || (rc = cert_sync_init()) != 0)
        return rc;
    cert_pdf_init();
    return 0;
}

const ss_service cert_service = {
    .name = "certificate",
    .env_name = "CERTIFICATE",
    .schema = "certificate",
    .default_port = SS_PORT_CERTIFICATE,
    .migrations_dir = SS_MIGRATIONS_DIR,
    .routes = routes,
    .init = cert_init,
    .shutdown = cert_keys_free,
};
