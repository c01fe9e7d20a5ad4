#!/usr/bin/env bash
# scripts/demo-data.sh - demo organisations and their first admins, through the gateway's API.
#
# Logs in as chuokai-admin (国保中央会), creates one organisation of each kind with
# POST /api/v1/organizations, logs in as each new admin with the temporary password it returned
# and changes it to the demo password (var/secrets/demo-password, made once), then writes
# var/secrets/demo-users.txt. Idempotent: an admin that already logs in with the demo password is
# left alone; a temporary password not yet changed (an interrupted run) is kept in
# var/secrets/demo-pending/ until it is. Run by scripts/up.sh; needs curl and jq.
#   SESSHU_DEMO_BASE_URL  gateway          (default http://127.0.0.1:8080)
#   SESSHU_DEMO_VAR       runtime directory (default REPO/var)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

SS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
. "$SS_REPO/scripts/lib.sh"

base=${SESSHU_DEMO_BASE_URL:-http://127.0.0.1:8080}
var=${SESSHU_DEMO_VAR:-$SS_REPO/var}
secrets=$var/secrets
pending=$secrets/demo-pending
mkdir -p "$pending"
chmod 700 "$pending"

# type code name name_kana prefecture admin-login admin-name admin-name-kana
orgs=(
    "kokuhoren|13|東京都国民健康保険団体連合会|トウキョウトコクミンケンコウホケンダンタイレンゴウカイ|13|kokuhoren13-admin|国保 太郎|コクホ タロウ"
    "municipality|131130|渋谷区|シブヤク|13|shibuya-admin|渋谷 花子|シブヤ ハナコ"
    "municipality|131041|新宿区|シンジュクク|13|shinjuku-admin|新宿 次郎|シンジュク ジロウ"
    "municipality|011002|札幌市|サッポロシ|01|sapporo-admin|札幌 雪子|サッポロ ユキコ"
    "medical_institution|0110113719|札幌中央クリニック|サッポロチュウオウクリニック|01|clinic0110113719-admin|医療 一郎|イリョウ イチロウ"
    "mhlw|MHLW|厚生労働省|コウセイロウドウショウ||mhlw-admin|厚労 三郎|コウロウ サブロウ"
    "operator|OPERATOR|運用保守事業者|ウンヨウホシュジギョウシャ||operator-admin|運用 四郎|ウンヨウ シロウ"
)

STATUS=
RESP=
# api METHOD PATH TOKEN [JSON]: sets STATUS and RESP. Token and body travel through a file
# descriptor and stdin, never on curl's command line. Waits out the gateway's 429s.
api() {
    local method=$1 path=$2 token=$3 body=${4:-} out i
    for ((i = 0; i < 30; i++)); do
        if ! out=$(printf '%s' "$body" | curl -sS -m 60 -X "$method" \
            -H @<(printf 'Content-Type: application/json\nAccept: application/json\n'
                [[ -z $token ]] || printf 'Authorization: Bearer %s\n' "$token") \
            ${body:+--data-binary @-} -w '\n%{http_code}' "$base$path"); then
            STATUS=000
            RESP=
            return 0
        fi
        STATUS=${out##*$'\n'}
        RESP=${out%$'\n'*}
        [[ $STATUS == 429 ]] || return 0
        sleep 1
    done
}

# login USER PASSWORD: on 200 sets TOKEN and PCR (password_change_required) and succeeds.
TOKEN=
PCR=
login() {
    api POST /api/v1/auth/login "" "$(jq -nc --arg u "$1" --arg p "$2" '{user_id:$u,password:$p}')"
    [[ $STATUS == 200 ]] || return 1
    TOKEN=$(jq -r .access_token <<<"$RESP")
    PCR=$(jq -r '.password_change_required // false' <<<"$RESP")
}

# change_password TOKEN CURRENT NEW: sets TOKEN to the new session's access token.
change_password() {
    api POST /api/v1/auth/password "$1" \
        "$(jq -nc --arg c "$2" --arg n "$3" '{current_password:$c,new_password:$n}')"
    [[ $STATUS == 200 ]] || ss_die "changing a password failed ($STATUS): $RESP"
    TOKEN=$(jq -r .access_token <<<"$RESP")
}

# --- the central association's admin -------------------------------------------------------
admin_pw=$(cat "$secrets/admin-password")
ss_secret_file "$secrets/demo-password" "$(ss_rand 20)"
demo_pw=$(cat "$secrets/demo-password")

login chuokai-admin "$admin_pw" ||
    ss_die "cannot log in as chuokai-admin with $secrets/admin-password ($STATUS): $RESP"
if [[ $PCR == true ]]; then
    # Only when the service was first started without SESSHU_ADMIN_PASSWORD: make the
    # temporary password a permanent one, and keep it where up.sh says it is.
    new_pw=$(ss_rand 20)
    change_password "$TOKEN" "$admin_pw" "$new_pw"
    printf '%s\n' "$new_pw" >"$secrets/admin-password.new"
    chmod 600 "$secrets/admin-password.new"
    mv -f "$secrets/admin-password.new" "$secrets/admin-password"
    ss_log "chuokai-admin had a temporary password: changed, see $secrets/admin-password"
fi
admin_token=$TOKEN

# --- one organisation at a time ------------------------------------------------------------
users_tmp=$secrets/demo-users.txt.tmp
{
    echo "# Demo organisations' first admins (scripts/demo-data.sh). Password of each:"
    echo "# the content of $secrets/demo-password. Gateway: $base"
    printf '%-24s %-22s %-12s %s\n' "# login" "type" "code" "organisation"
    printf '%-24s %-22s %-12s %s\n' chuokai-admin chuokai "-" "国保中央会 (password: $secrets/admin-password)"
} >"$users_tmp"
created=0
for spec in "${orgs[@]}"; do
    IFS='|' read -r type code name kana pref login_id admin_name admin_kana <<<"$spec"
    if login "$login_id" "$demo_pw"; then
        [[ $PCR == false ]] || ss_die "$login_id still has password_change_required"
    else
        temp=
        if [[ -s $pending/$login_id ]]; then
            temp=$(cat "$pending/$login_id")
        else
            body=$(jq -nc --arg t "$type" --arg c "$code" --arg n "$name" --arg k "$kana" --arg p "$pref" \
                --arg u "$login_id" --arg an "$admin_name" --arg ak "$admin_kana" \
                '{type:$t,code:$c,name:$n,name_kana:$k,
                  admin:{user_id:$u,name:$an,name_kana:$ak,email:($u + "@example.jp")}}
                 + (if $p == "" then {} else {prefecture_code:$p} end)')
            api POST /api/v1/organizations "$admin_token" "$body"
            case $STATUS in
                201)
                    temp=$(jq -r .temporary_password <<<"$RESP")
                    (umask 077; printf '%s\n' "$temp" >"$pending/$login_id")
                    created=$((created + 1))
                    ;;
                409)
                    ss_warn "$name ($type $code) exists, but $login_id does not log in with the demo password: skipped"
                    continue
                    ;;
                *) ss_die "creating $name failed ($STATUS): $RESP" ;;
            esac
        fi
        login "$login_id" "$temp" ||
            ss_die "cannot log in as $login_id with its temporary password ($STATUS): $RESP"
        change_password "$TOKEN" "$temp" "$demo_pw"
        rm -f "$pending/$login_id"
    fi
    printf '%-24s %-22s %-12s %s\n' "$login_id" "$type" "$code" "$name" >>"$users_tmp"
done
chmod 600 "$users_tmp"
mv -f "$users_tmp" "$secrets/demo-users.txt"
ss_log "demo data: $created organisation(s) created, ${#orgs[@]} in all ($secrets/demo-users.txt)"
