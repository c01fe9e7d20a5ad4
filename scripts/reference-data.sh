#!/usr/bin/env bash
# scripts/reference-data.sh - load the reference data that comes from maintained npm packages
# into a running stack, through the gateway's API:
#   - the complete Zengin bank and branch list (npm `zengin-code`, scripts/reference/zengin.mjs)
#     into the masters `banks` and `bank_branches`, by the master import (H-8-7) as a full
#     snapshot: `upsert`, `retire_missing=true`, `source=OPERATOR`, committed (a bank or branch
#     the list no longer has ends the day before the import's effective date; an unchanged row
#     writes nothing, so running it again is cheap);
#   - the public holidays (npm `@holiday-jp/holiday_jp`) of the years SESSHU_REF_YEARS (default:
#     last year to three years ahead, Japan time) into the payment calendar
#     (PUT /api/v1/claims/holidays/:year, which replaces a year).
# Run by scripts/up.sh after the demo data, and at the containers' start-up by the one-shot
# `reference-data` container (docker-compose.yml; deploy/k8s/reference-data.yaml, a Job), which
# has no demo data and so makes its operator admin first (SESSHU_REF_BOOTSTRAP below); an
# operator refreshes the same way (README.md, "Reference data"). Needs node >= 20, npm (the
# packages are installed into scripts/reference/node_modules from its lock file when missing),
# curl and jq.
#   SESSHU_REF_BASE_URL        gateway (default http://127.0.0.1:8080)
#   SESSHU_REF_USER            an admin of the operator (default operator-admin, the demo's)
#   SESSHU_REF_PASSWORD_FILE   its password (default REPO/var/secrets/demo-password)
#   SESSHU_REF_YEARS           holiday years, space separated
#   SESSHU_REF_EFFECTIVE_DATE  the import's effective date (default: today in Japan)
#   SESSHU_REF_BOOTSTRAP=1     when SESSHU_REF_USER does not log in with its password yet: log in
#                              as chuokai-admin (SESSHU_REF_ADMIN_PASSWORD_FILE), create the
#                              operator organisation (運用保守事業者, code OPERATOR) with
#                              SESSHU_REF_USER as its admin, and change the temporary password
#                              it gets to the one in SESSHU_REF_PASSWORD_FILE (the containers:
#                              init-secrets makes operator-password). Nothing when it logs in.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

SS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
. "$SS_REPO/scripts/lib.sh"

base=${SESSHU_REF_BASE_URL:-http://127.0.0.1:8080}
user=${SESSHU_REF_USER:-operator-admin}
pwfile=${SESSHU_REF_PASSWORD_FILE:-$SS_REPO/var/secrets/demo-password}
this_year=$(TZ=Asia/Tokyo date +%Y)
years=${SESSHU_REF_YEARS:-$((this_year - 1)) $this_year $((this_year + 1)) $((this_year + 2)) $((this_year + 3))}
effective=${SESSHU_REF_EFFECTIVE_DATE:-$(TZ=Asia/Tokyo date +%F)}
ref=$SS_REPO/scripts/reference
[[ -r $pwfile ]] || ss_die "no password file $pwfile (SESSHU_REF_PASSWORD_FILE)"

if [[ ! -f $ref/node_modules/zengin-code/package.json || ! -f $ref/node_modules/@holiday-jp/holiday_jp/package.json ||
    $ref/package-lock.json -nt $ref/node_modules/.package-lock.json ]]; then
    ss_log "installing scripts/reference's packages (npm ci)"
    npm ci --prefix "$ref" --no-audit --no-fund --loglevel=error >/dev/null || ss_die "npm ci in scripts/reference failed"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# call METHOD PATH CONTENT-TYPE BODY-FILE: prints the body, sets CODE. The token travels in a
# header file, never on curl's command line.
CODE=
call() {
    local out
    out=$(curl -sS -m 300 -X "$1" -H @"$work/headers" -H "Content-Type: $3" \
        --data-binary @"$4" -o "$work/resp" -w '%{http_code}' "$base$2") || out=000
    CODE=$out
}

# login USER PASSWORD-FILE: on 200 the session's token goes into the header file.
login() {
    jq -nc --arg u "$1" --rawfile p "$2" '{user_id:$u,password:($p|rtrimstr("\n"))}' >"$work/login.json"
    printf 'Accept: application/json\n' >"$work/headers"
    call POST /api/v1/auth/login application/json "$work/login.json"
    [[ $CODE == 200 ]] || return 1
    printf 'Accept: application/json\nAuthorization: Bearer %s\n' "$(jq -r .access_token "$work/resp")" >"$work/headers"
}

# The containers have no demo data: their operator admin is made here, once, by chuokai-admin.
bootstrap() {
    local admin_pw=${SESSHU_REF_ADMIN_PASSWORD_FILE:?SESSHU_REF_BOOTSTRAP needs SESSHU_REF_ADMIN_PASSWORD_FILE}
    login chuokai-admin "$admin_pw" || ss_die "cannot log in as chuokai-admin with $admin_pw ($CODE): $(cat "$work/resp")"
    jq -nc --arg u "$user" '{type:"operator",code:"OPERATOR",name:"運用保守事業者",
        name_kana:"ウンヨウホシュジギョウシャ",
        admin:{user_id:$u,name:"運用 管理者",name_kana:"ウンヨウ カンリシャ",email:($u + "@sesshu.local")}}' >"$work/org.json"
    call POST /api/v1/organizations application/json "$work/org.json"
    [[ $CODE == 201 ]] || ss_die "cannot create the operator organisation with admin $user ($CODE): $(head -c 2000 "$work/resp")
(an organisation that exists but whose admin does not log in with $pwfile: reset that admin's password)"
    jq -r .temporary_password "$work/resp" >"$work/temp.pw"
    login "$user" "$work/temp.pw" || ss_die "cannot log in as $user with its temporary password ($CODE)"
    jq -nc --rawfile c "$work/temp.pw" --rawfile n "$pwfile" \
        '{current_password:($c|rtrimstr("\n")),new_password:($n|rtrimstr("\n"))}' >"$work/pw.json"
    call POST /api/v1/auth/password application/json "$work/pw.json"
    [[ $CODE == 200 ]] || ss_die "cannot set $user's password ($CODE): $(head -c 2000 "$work/resp")"
    rm -f "$work/temp.pw" "$work/pw.json"
    ss_log "made the operator organisation and its admin $user (password: $pwfile)"
}

if ! login "$user" "$pwfile"; then
    [[ ${SESSHU_REF_BOOTSTRAP:-0} == 1 && $CODE == 401 ]] || ss_die "cannot log in as $user ($CODE): $(cat "$work/resp")"
    bootstrap
    login "$user" "$pwfile" || ss_die "cannot log in as $user ($CODE): $(cat "$work/resp")"
fi

# --- banks and branches ---------------------------------------------------------------------
counts=$(node "$ref/zengin.mjs" "$work") || ss_die "converting zengin-code failed"
q="strategy=upsert&retire_missing=true&dry_run=false&source=OPERATOR&effective_date=$effective"
for m in banks bank_branches; do
    call POST "/api/v1/masters/$m/import?$q" 'text/csv; charset=UTF-8' "$work/$m.csv"
    [[ $CODE == 200 ]] || ss_die "importing $m failed ($CODE): $(head -c 2000 "$work/resp")"
    ss_log "master $m: $(jq -c '{added:.counts.added,changed:.counts.changed,unchanged:.counts.unchanged,retired:.counts.retired}' "$work/resp" 2>/dev/null || echo imported)"
done
ss_log "bank master from $(jq -r .package <<<"$counts"): $(jq -r .banks <<<"$counts") banks, $(jq -r .bank_branches <<<"$counts") branches"

# --- public holidays ------------------------------------------------------------------------
for y in $years; do
    node -e '
const { createRequire } = require("node:module");
const r = createRequire(process.argv[1] + "/");
const all = r("@holiday-jp/holiday_jp/lib/holidays.js");
const v = r("@holiday-jp/holiday_jp/package.json").version;
const y = process.argv[2];
const days = Object.values(all).filter((h) => h.date.startsWith(y + "-"))
  .map((h) => ({ date: h.date, name: h.name })).sort((a, b) => a.date.localeCompare(b.date));
process.stdout.write(JSON.stringify({ source: "npm @holiday-jp/holiday_jp " + v, days }));' "$ref" "$y" >"$work/h.json"
    if [[ $(jq '.days | length' "$work/h.json") -eq 0 ]]; then
        ss_warn "@holiday-jp/holiday_jp lists no holidays for $y: not imported (update the package)"
        continue
    fi
    call PUT "/api/v1/claims/holidays/$y" application/json "$work/h.json"
    [[ $CODE == 200 ]] || ss_die "importing the holidays of $y failed ($CODE): $(head -c 2000 "$work/resp")"
done
ss_log "holidays imported: $years (reference data loaded in ${SECONDS} s)"
