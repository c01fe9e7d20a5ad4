#!/bin/sh
# deploy/docker/init-secrets.sh - one-shot container of docker-compose.yml: the stack's secrets,
# made once into the `secrets` volume (mounted at /run/sesshu), never taken from the repository.
#   secrets/db-<svc>.pw      each service's database password (read by postgres' init script)
#   secrets/postgres.pw      the database superuser's
#   secrets/admin-password   chuokai-admin's first password (SESSHU_ADMIN_PASSWORD_FILE)
#   secrets/operator-password  the operator admin's, set by the reference-data container when it
#                            makes that admin (scripts/reference-data.sh SESSHU_REF_BOOTSTRAP)
#   secrets/jwt-signing.pem  EC P-256 private key, PKCS#8 (SESSHU_JWT_SIGNING_KEY_FILE)
#   secrets/token-signing.pem  the token service's key (SESSHU_TOKEN_SIGNING_KEY_FILE)
#   keys/<owner>-<kid>.pem   their public keys, named by the issuing service (account, token,
#                            certificate): each kind of token is accepted only from its
#                            issuer's keys (SESSHU_JWT_PUBLIC_KEY_DIR)
#   secrets/certificate-service.pem  the certificate service's service-token key
#   secrets/stats-service.pem  the stats service's service-token key (owner stats)
#   secrets/payment-service.pem  the payment service's service-token key (owner payment)
#   secrets/stats-pseudonym.key  the stats service's key of its person hash, 64 hex characters
#   secrets/shc-issuer.pem   the SMART Health Card issuer's key (never among keys/)
#   secrets/records-mynumber.key, records-mynumber-hmac.key   the records service's 個人番号
#                            sealing and keyed-hash keys, 64 hex characters each
# The volume is mounted only into this stack's containers; files are world-readable there
# because the services (uid 10001) and postgres (uid 999) both read them.
set -eu
root=${1:-/run/sesshu}
mkdir -p "$root/secrets" "$root/keys"

rand() { openssl rand -base64 48 | tr -dc 'A-Za-z0-9' | cut -c1-"$1"; }
once() {
    [ -s "$1" ] && return 0
    printf '%s\n' "$2" >"$1.tmp" && mv "$1.tmp" "$1"
}

for svc in account token records certificate master payment notice audit stats; do
    once "$root/secrets/db-$svc.pw" "$(rand 32)"
done
once "$root/secrets/postgres.pw" "$(rand 32)"
once "$root/secrets/admin-password" "$(rand 20)"
once "$root/secrets/operator-password" "$(rand 20)"
once "$root/secrets/records-mynumber.key" "$(openssl rand -hex 32)"
once "$root/secrets/records-mynumber-hmac.key" "$(openssl rand -hex 32)"
once "$root/secrets/stats-pseudonym.key" "$(openssl rand -hex 32)"
# Two signing keys: user sessions (account) and API-client tokens (token).
# (certificate-service, stats-service and payment-service sign those services' calls to records; audit-signing
# the access log's checkpoints.)
for pair in jwt-signing:account token-signing:token certificate-service:certificate stats-service:stats payment-service:payment audit-signing:audit; do
    name=${pair%%:*}
    owner=${pair#*:}
    if [ ! -s "$root/secrets/$name.pem" ]; then
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$root/secrets/$name.pem.tmp"
        mv "$root/secrets/$name.pem.tmp" "$root/secrets/$name.pem"
    fi
    kid=$(openssl pkey -in "$root/secrets/$name.pem" -pubout -outform DER | sha256sum | cut -c1-16)
    rm -f "$root/keys/$kid.pem" # the unowned name of earlier versions
    [ -s "$root/keys/$owner-$kid.pem" ] || openssl pkey -in "$root/secrets/$name.pem" -pubout -out "$root/keys/$owner-$kid.pem"
done
if [ ! -s "$root/secrets/shc-issuer.pem" ]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$root/secrets/shc-issuer.pem.tmp"
    mv "$root/secrets/shc-issuer.pem.tmp" "$root/secrets/shc-issuer.pem"
fi
mkdir -p "$root/secrets/shc-old-keys"
chmod 755 "$root" "$root/secrets" "$root/keys" "$root/secrets/shc-old-keys"
find "$root/secrets" "$root/keys" -type f -exec chmod 644 {} +
echo "secrets ready in $root (chuokai-admin's password: secrets/admin-password)"
