#!/usr/bin/env bash
# deploy/gateway/render.sh - render nginx.conf.template into a ready nginx configuration.
#
# Usage: render.sh OUTPUT.conf
# Every knob is an environment variable with a default for the local stack (scripts/up.sh):
#   SESSHU_GW_LISTEN        address:port nginx listens on            127.0.0.1:8080
#   SESSHU_GW_PREFIX        runtime directory (pid, temp files)      directory of OUTPUT
#   SESSHU_GW_ACCESS_LOG    access log path (buffered)               $PREFIX/access.log
#   SESSHU_GW_ERROR_LOG     error log path                           $PREFIX/error.log
#   SESSHU_GW_<SVC>_UPSTREAM host:port of each of the nine services  $SESSHU_BIND:$SESSHU_<SVC>_PORT
#   SESSHU_GW_API_RATE / _BURST     every path, per client address   1000r/s / 2000
#   SESSHU_GW_AUTH_RATE / _BURST    login, password change, reset    5r/s / 20
#                                   and confirm, refresh, reminder,
#                                   e-mail confirmation
#   SESSHU_GW_TOKEN_RATE / _BURST   /oauth2/token, introspect, revoke 10r/s / 20
#   SESSHU_GW_VERIFY_RATE / _BURST  POST /api/v1/certificates/verify 50r/s / 100
#   SESSHU_GW_MAX_BODY      client_max_body_size                     1m
#   SESSHU_GW_KEEPALIVE     idle upstream connections per worker     32
#   SESSHU_GW_WORKERS       worker_processes                         auto
#   SESSHU_GW_USER          worker user when started as root         www-data, else nobody
#   SESSHU_GW_PROBLEM_BASE  prefix of the problem "type" URIs        urn:sesshu:problem:
#   SESSHU_GW_STATS_DIR     the public statistics page served at /stats/ (the output of
#                           services/stats/dashboard/build.sh)     $PREFIX/stats-dashboard
#   SESSHU_GW_STATS_CACHE   on: the public datasets (/api/v1/stats/) are     on
#                           cached for their Cache-Control max-age, as a CDN would; off: every
#                           read goes to the stats service (the test stack, which reads its own
#                           writes at once)
#   SESSHU_GW_CORS_ORIGINS  origins a browser front end may call from (none)
#                           (space- or comma-separated, e.g. https://portal.example.jp): their
#                           preflights are answered here, their answers carry the CORS headers
#   SESSHU_GW_PROXY_BIND    source address towards the services      127.0.0.2 (off: the
#                           system's choice). The services believe X-Real-IP only from the
#                           addresses in their SESSHU_TRUSTED_PROXIES (default 127.0.0.2), so a
#                           direct call to a service port on loopback cannot forge it.
#   SESSHU_GW_MODULES_DIR   where nginx's dynamic modules are        /usr/lib/nginx/modules
#                           (headers-more, Debian libnginx-mod-http-headers-more-filter: a 304
#                           must not carry the Content-Length: 0 that libmicrohttpd gives it)
# The rendered file is checked with `nginx -t` unless SESSHU_GW_NO_CHECK=1.
set -euo pipefail

die() { printf 'render.sh: %s\n' "$*" >&2; exit 1; }

[[ $# -eq 1 ]] || die "usage: render.sh OUTPUT.conf"
out=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
template=$here/nginx.conf.template
[[ -r $template ]] || die "missing $template"
command -v envsubst >/dev/null || die "envsubst not found (apt-get install gettext-base)"

outdir=$(cd "$(dirname "$out")" && pwd) || die "no directory for $out"
out=$outdir/$(basename "$out")

# The same ports as services/registry.tsv (scripts/check-registry.py checks it; the gateway image
# carries this script without the registry).
declare -A default_port=([ACCOUNT]=8101 [TOKEN]=8102 [RECORDS]=8103 [CERTIFICATE]=8104
    [MASTER]=8105 [PAYMENT]=8106 [NOTICE]=8107 [AUDIT]=8108 [STATS]=8109)
bind=${SESSHU_BIND:-127.0.0.1}
[[ $bind == 0.0.0.0 ]] && bind=127.0.0.1
vars=()
for svc in "${!default_port[@]}"; do
    port_var=SESSHU_${svc}_PORT
    up_var=SESSHU_GW_${svc}_UPSTREAM
    export "$up_var=${!up_var:-$bind:${!port_var:-${default_port[$svc]}}}"
    vars+=("$up_var")
done

export SESSHU_GW_LISTEN=${SESSHU_GW_LISTEN:-127.0.0.1:8080}
export SESSHU_GW_PREFIX=${SESSHU_GW_PREFIX:-$outdir}
export SESSHU_GW_ACCESS_LOG=${SESSHU_GW_ACCESS_LOG:-$SESSHU_GW_PREFIX/access.log}
export SESSHU_GW_ERROR_LOG=${SESSHU_GW_ERROR_LOG:-$SESSHU_GW_PREFIX/error.log}
export SESSHU_GW_API_RATE=${SESSHU_GW_API_RATE:-1000r/s}
export SESSHU_GW_API_BURST=${SESSHU_GW_API_BURST:-2000}
export SESSHU_GW_AUTH_RATE=${SESSHU_GW_AUTH_RATE:-5r/s}
export SESSHU_GW_AUTH_BURST=${SESSHU_GW_AUTH_BURST:-20}
export SESSHU_GW_TOKEN_RATE=${SESSHU_GW_TOKEN_RATE:-10r/s}
export SESSHU_GW_TOKEN_BURST=${SESSHU_GW_TOKEN_BURST:-20}
export SESSHU_GW_VERIFY_RATE=${SESSHU_GW_VERIFY_RATE:-50r/s}
export SESSHU_GW_VERIFY_BURST=${SESSHU_GW_VERIFY_BURST:-100}
export SESSHU_GW_MAX_BODY=${SESSHU_GW_MAX_BODY:-1m}
export SESSHU_GW_KEEPALIVE=${SESSHU_GW_KEEPALIVE:-32}
export SESSHU_GW_WORKERS=${SESSHU_GW_WORKERS:-auto}
export SESSHU_GW_PROBLEM_BASE=${SESSHU_GW_PROBLEM_BASE:-urn:sesshu:problem:}
export SESSHU_GW_PROXY_BIND=${SESSHU_GW_PROXY_BIND:-127.0.0.2}
export SESSHU_GW_STATS_DIR=${SESSHU_GW_STATS_DIR:-$SESSHU_GW_PREFIX/stats-dashboard}
SESSHU_GW_STATS_CACHE=${SESSHU_GW_STATS_CACHE:-on}
case $SESSHU_GW_STATS_CACHE in
    on) export SESSHU_GW_STATS_CACHE_ZONE=stats_cache ;;
    off) export SESSHU_GW_STATS_CACHE_ZONE=off ;;
    *) die "SESSHU_GW_STATS_CACHE must be on or off, not '$SESSHU_GW_STATS_CACHE'" ;;
esac
# One map line per allowed origin: "<origin>" $http_origin; (nginx text, not shell).
SESSHU_GW_CORS_MAP=
cors_origins=${SESSHU_GW_CORS_ORIGINS:-}
for origin in ${cors_origins//,/ }; do
    [[ $origin =~ ^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$ ]] ||
        die "SESSHU_GW_CORS_ORIGINS: '$origin' is not an origin like https://portal.example.jp"
    # shellcheck disable=SC2016 # $http_origin is nginx's variable
    SESSHU_GW_CORS_MAP+=$(printf '        "%s" $http_origin;' "$origin")$'\n'
done
export SESSHU_GW_CORS_MAP

# Validate what is pasted into the configuration: a bad value fails here with one clear line
# rather than as an nginx parse error (or worse, as injected directives).
for v in SESSHU_GW_API_RATE SESSHU_GW_AUTH_RATE SESSHU_GW_TOKEN_RATE SESSHU_GW_VERIFY_RATE; do
    [[ ${!v} =~ ^[1-9][0-9]*r/[sm]$ ]] || die "$v must look like 10r/s or 30r/m, not '${!v}'"
done
for v in SESSHU_GW_API_BURST SESSHU_GW_AUTH_BURST SESSHU_GW_TOKEN_BURST SESSHU_GW_VERIFY_BURST SESSHU_GW_KEEPALIVE; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number, not '${!v}'"
done
[[ $SESSHU_GW_MAX_BODY =~ ^[0-9]+[kKmM]?$ ]] || die "SESSHU_GW_MAX_BODY must look like 1m or 512k"
[[ $SESSHU_GW_WORKERS =~ ^(auto|[1-9][0-9]*)$ ]] || die "SESSHU_GW_WORKERS must be auto or a number"
[[ $SESSHU_GW_LISTEN =~ ^[][0-9A-Za-z.:-]+$ ]] || die "bad SESSHU_GW_LISTEN '$SESSHU_GW_LISTEN'"
[[ $SESSHU_GW_PROBLEM_BASE =~ ^[A-Za-z0-9:/._-]*$ ]] || die "bad SESSHU_GW_PROBLEM_BASE"
[[ $SESSHU_GW_PROXY_BIND =~ ^(off|[0-9A-Fa-f.:]+)$ ]] || die "SESSHU_GW_PROXY_BIND must be an address or off"
for v in "${vars[@]}"; do
    [[ ${!v} =~ ^[][0-9A-Za-z.:-]+:[0-9]+$ ]] || die "$v must be host:port, not '${!v}'"
done
for v in SESSHU_GW_PREFIX SESSHU_GW_ACCESS_LOG SESSHU_GW_ERROR_LOG SESSHU_GW_STATS_DIR; do
    [[ ${!v} =~ ^[^\;\{\}\ \'\"\$]+$ ]] || die "$v must be a plain path, not '${!v}'"
done

# Workers drop to an unprivileged user only when the master runs as root; they write the
# temporary files (request bodies over 64 KiB, large upstream answers), so they own those dirs.
worker=
if [[ $(id -u) -eq 0 ]]; then
    worker=${SESSHU_GW_USER:-}
    if [[ -z $worker ]]; then
        if id -u www-data >/dev/null 2>&1; then worker=www-data; else worker=nobody; fi
    fi
    id -u "$worker" >/dev/null 2>&1 || die "worker user '$worker' does not exist"
    group=$(id -gn "$worker")
    export SESSHU_GW_USER_LINE="user $worker $group;"
else
    export SESSHU_GW_USER_LINE="# (not root: workers keep the current user)"
fi

moddir=${SESSHU_GW_MODULES_DIR:-/usr/lib/nginx/modules}
[[ -r $moddir/ngx_http_headers_more_filter_module.so ]] ||
    die "nginx's headers-more module is missing in $moddir (apt-get install libnginx-mod-http-headers-more-filter)"
export SESSHU_GW_MODULES_LINE="load_module $moddir/ngx_http_headers_more_filter_module.so;"

mkdir -p "$SESSHU_GW_PREFIX"
for d in client_body proxy fastcgi uwsgi scgi; do
    mkdir -p "$SESSHU_GW_PREFIX/$d"
    [[ -n $worker ]] && chown "$worker" "$SESSHU_GW_PREFIX/$d"
done

vars+=(SESSHU_GW_LISTEN SESSHU_GW_PREFIX SESSHU_GW_ACCESS_LOG SESSHU_GW_ERROR_LOG SESSHU_GW_API_RATE
    SESSHU_GW_API_BURST SESSHU_GW_AUTH_RATE SESSHU_GW_AUTH_BURST SESSHU_GW_TOKEN_RATE
    SESSHU_GW_TOKEN_BURST SESSHU_GW_VERIFY_RATE SESSHU_GW_VERIFY_BURST SESSHU_GW_MAX_BODY
    SESSHU_GW_KEEPALIVE SESSHU_GW_WORKERS
    SESSHU_GW_PROBLEM_BASE SESSHU_GW_PROXY_BIND SESSHU_GW_CORS_MAP SESSHU_GW_USER_LINE
    SESSHU_GW_STATS_DIR SESSHU_GW_MODULES_LINE SESSHU_GW_STATS_CACHE_ZONE)
# shellcheck disable=SC2016 # envsubst wants the literal ${NAME} list
shell_format=$(printf '${%s} ' "${vars[@]}")
tmp=$(mktemp "$out.XXXXXX")
envsubst "$shell_format" <"$template" >"$tmp"
# shellcheck disable=SC2016 # a literal ${ left over means an unknown name
if grep -q '\${SESSHU_GW_' "$tmp"; then
    rm -f "$tmp"
    die "template uses a variable render.sh does not know"
fi
if [[ ${SESSHU_GW_NO_CHECK:-0} != 1 ]]; then
    nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
    if ! errors=$("$nginx_bin" -t -q -p "$SESSHU_GW_PREFIX/" -e "$SESSHU_GW_ERROR_LOG" -c "$tmp" 2>&1); then
        rm -f "$tmp"
        die "nginx rejects the rendered configuration: $errors"
    fi
fi
chmod 644 "$tmp"
mv -f "$tmp" "$out"
