#!/usr/bin/env bash
# scripts/install-deps.sh - install the Debian 12 packages sesshu builds, runs and tests with.
#
# As root: installs what is missing (apt-get update only then), without starting the packages'
# own system services (nginx on :80, a PostgreSQL cluster on :5432): this project runs its own.
# As another user: prints the one apt-get line that would install what is missing, exits 1.
# Nothing missing: prints nothing, exits 0. Options: --bench also wants wrk.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

pkgs=(
    # build
    build-essential cmake pkg-config
    libulfius-dev liborcania-dev libyder-dev libjansson-dev libjwt-dev libpq-dev libargon2-dev
    libmicrohttpd-dev libcurl4-gnutls-dev libssl-dev check
    # certificate (H-5): QR codes, PDF (cairo + pango), the embedded Japanese font and its cut
    # (HarfBuzz's subsetter, font.c); zlib is raw DEFLATE
    libqrencode-dev libcairo2-dev libpango1.0-dev libharfbuzz-dev zlib1g-dev fonts-ipaexfont-gothic fonts-ipaexfont-mincho
    # run: database, gateway, mail sink, keys, scripts
    postgresql-15 postgresql-client-15 nginx-light libnginx-mod-http-headers-more-filter python3-aiosmtpd openssl gettext-base curl jq
    ca-certificates util-linux
    # test: static checks, compose-file check
    cppcheck shellcheck python3-yaml
    # test: the suite on another date (README "Tests on any date")
    faketime
    # test: the certificate's QR and PDF read back by third-party tools
    zbar-tools poppler-utils
    # test: the public statistics page (/stats/) in a real browser (playwright-core drives it)
    chromium
    # test: docker-compose.yml's stack in containers (scripts/test-containers.sh): the engine,
    # Compose v1, and the bookworm base image made without a registry
    docker.io docker-compose debootstrap
)
# Optional: where the mirror lacks one, the layer that needs it is skipped (test.sh says so).
#   postgresql-15-auto-failover: the HA cluster (scripts/ha/cluster.sh) and the failover test
optional=(postgresql-15-auto-failover)
[[ -f $repo/.clang-format ]] && pkgs+=(clang-format)
[[ ${1:-} == --bench ]] && pkgs+=(wrk)

# The API tests need node >= 20 and npm: take Debian's only when there is no node at all (a
# newer one, e.g. NodeSource's, must not be replaced by Debian's 18).
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)

missing=()
missing_opt=()
for p in "${optional[@]}"; do
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true) == installed ]] || missing_opt+=("$p")
done
# The optional ones alone, after the required ones are in: a failure is only a warning.
install_optional() {
    [[ ${#missing_opt[@]} -eq 0 || $(id -u) -ne 0 ]] && return 0
    echo "==> installing (optional): ${missing_opt[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_opt[@]}" ||
        echo "warning: could not install ${missing_opt[*]}: the layers that need them are skipped" >&2
}
for p in "${pkgs[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    # nginx-light is one of several nginx builds; any nginx binary will do.
    if [[ $p == nginx-light ]] && command -v nginx >/dev/null 2>&1; then continue; fi
    [[ $status == installed ]] || missing+=("$p")
done

node_check() {
    local major
    command -v node >/dev/null 2>&1 || return 0
    major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    [[ $major -ge 20 ]] || echo "warning: node $(node --version) is older than 20, which the API tests need" >&2
}

if [[ ${#missing[@]} -eq 0 ]]; then
    if [[ ${#missing_opt[@]} -ne 0 && $(id -u) -eq 0 ]]; then
        apt-get update -qq || true
        install_optional
    fi
    node_check
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "Missing packages. Install them as root, then run this again:" >&2
    echo "sudo apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
fi

echo "==> installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d answering 101 keeps invoke-rc.d/deb-systemd-invoke from starting the packages'
# daemons during the install; removed again afterwards (only if we created it).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created_policy=1
fi
cleanup() { [[ $created_policy -eq 1 ]] && rm -f "$policy"; return 0; }
trap cleanup EXIT

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_optional
node_check
