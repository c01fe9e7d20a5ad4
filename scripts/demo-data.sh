#!/usr/bin/env bash
# scripts/demo-data.sh - demo organisations, users, residents and vaccinations, through the
# gateway's API.
#
# Logs in as chuokai-admin (国保中央会), creates one organisation of each kind with
# POST /api/v1/organizations, logs in as each new admin with the temporary password it returned
# and changes it to the demo password (var/secrets/demo-password, made once). Then a few staff
# users (each created by its organisation's admin, same password), and 渋谷区's residents with
# their vaccinations (registered by 渋谷区 for 新宿内科医院, all inside their schedule windows),
# and writes var/secrets/demo-users.txt. Idempotent: a user that already logs in with the demo
# password is left alone; a temporary password not yet changed (an interrupted run) is kept in
# var/secrets/demo-pending/ until it is; a resident already registered (its resident number) is
# found again, a vaccination already recorded (409) is left as it is. Run by scripts/up.sh;
# needs curl and jq.
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
    "medical_institution|0110113719|札幌医科大学附属病院|サッポロイカダイガクフゾクビョウイン|01|clinic0110113719-admin|医療 一郎|イリョウ イチロウ"
    "medical_institution|1311056780|新宿内科医院|シンジュクナイカイイン|13|clinic1311056780-admin|内科 五郎|ナイカ ゴロウ"
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
    echo "# Demo users: each organisation's first admin and a few staff (scripts/demo-data.sh). Password of each:"
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

# --- staff users, each created by its organisation's admin -----------------------------------
# admin-login user-login name name_kana type code organisation
staff=(
    "shibuya-admin|shibuya-hoken01|保健 一子|ホケン イチコ|municipality|131130|渋谷区 (role user)"
    "clinic1311056780-admin|naika-nurse01|看護 六子|カンゴ ムツコ|medical_institution|1311056780|新宿内科医院 (role user)"
)
for spec in "${staff[@]}"; do
    IFS='|' read -r admin_login login_id name kana type code org <<<"$spec"
    if ! login "$login_id" "$demo_pw"; then
        temp=
        if [[ -s $pending/$login_id ]]; then
            temp=$(cat "$pending/$login_id")
        else
            login "$admin_login" "$demo_pw" || ss_die "cannot log in as $admin_login ($STATUS): $RESP"
            api POST /api/v1/users "$TOKEN" "$(jq -nc --arg u "$login_id" --arg n "$name" --arg k "$kana"                 '{user_id:$u,name:$n,name_kana:$k,email:($u + "@example.jp"),role:"user"}')"
            case $STATUS in
                201)
                    temp=$(jq -r .temporary_password <<<"$RESP")
                    (umask 077; printf '%s\n' "$temp" >"$pending/$login_id")
                    ;;
                409)
                    ss_warn "$login_id exists, but does not log in with the demo password: skipped"
                    continue
                    ;;
                *) ss_die "creating $login_id failed ($STATUS): $RESP" ;;
            esac
        fi
        login "$login_id" "$temp" ||
            ss_die "cannot log in as $login_id with its temporary password ($STATUS): $RESP"
        change_password "$TOKEN" "$temp" "$demo_pw"
        rm -f "$pending/$login_id"
    fi
    printf '%-24s %-22s %-12s %s\n' "$login_id" "$type" "$code" "$org" >>"$users_tmp"
done

# --- 渋谷区's residents and their vaccinations (made by 渋谷区 for 新宿内科医院) --------------
# resident_no name name_kana birth_date sex
residents=(
    "S-0001|渋谷 一郎|シブヤ イチロウ|2025-10-01|1"
    "S-0002|渋谷 二葉|シブヤ フタバ|2024-11-10|2"
    "S-0003|渋谷 三郎|シブヤ サブロウ|1955-04-01|1"
)
# resident_no vaccine_code lot_no vaccinated_on dose_number: 5種混合 ×3 (from 2 months, 20 days
# apart), MR 1st dose (1-2 years), influenza B類 (65+, this season)
doses=(
    "S-0001|631300101|GB001A|2025-12-05|1"
    "S-0001|631300101|GB001A|2026-01-09|2"
    "S-0001|631300101|GB001A|2026-02-13|3"
    "S-0002|631300601|MR123|2025-11-20|1"
    "S-0003|631302201|FLU26A|2026-10-20|1"
)
login shibuya-admin "$demo_pw" || ss_die "cannot log in as shibuya-admin ($STATUS): $RESP"
muni_token=$TOKEN
declare -A person_ids=()
new_persons=0
for spec in "${residents[@]}"; do
    IFS='|' read -r rno name kana birth sex <<<"$spec"
    api POST /api/v1/persons "$muni_token" "$(jq -nc --arg r "$rno" --arg n "$name" --arg k "$kana"         --arg b "$birth" --arg s "$sex" '{resident_no:$r,name:$n,name_kana:$k,birth_date:$b,sex:$s,
        address:"東京都渋谷区宇田川町1-1"}')"
    case $STATUS in
        201) new_persons=$((new_persons + 1)) ;;
        409) api GET "/api/v1/persons?resident_no=$rno" "$muni_token" ;;
        *) ss_die "registering resident $rno failed ($STATUS): $RESP" ;;
    esac
    [[ $STATUS == 201 || $STATUS == 200 ]] || ss_die "finding resident $rno failed ($STATUS): $RESP"
    person_ids[$rno]=$(jq -r 'if has("items") then .items[0].id else .id end // empty' <<<"$RESP")
    [[ -n ${person_ids[$rno]} ]] || ss_die "resident $rno has no id: $RESP"
done
new_doses=0
for spec in "${doses[@]}"; do
    IFS='|' read -r rno vaccine lot on dose <<<"$spec"
    api POST /api/v1/immunizations "$muni_token" "$(jq -nc --arg p "${person_ids[$rno]}"         --arg v "$vaccine" --arg l "$lot" --arg d "$on" --argjson n "$dose"         '{person_id:$p,vaccine_code:$v,lot_no:$l,vaccinated_on:$d,dose_number:$n,
          institution_code:"1311056780",doctor_name:"内科 五郎",category:"routine"}')"
    case $STATUS in
        201) new_doses=$((new_doses + 1)) ;;
        409) ;;
        *) ss_die "registering a vaccination of $rno failed ($STATUS): $RESP" ;;
    esac
done
{
    echo "#"
    echo "# 渋谷区's residents (log in as shibuya-admin: GET /api/v1/persons, /api/v1/immunizations)"
    for spec in "${residents[@]}"; do
        IFS='|' read -r rno name kana birth sex <<<"$spec"
        printf '#   %-8s %-38s %s  %s\n' "$rno" "${person_ids[$rno]}" "$birth" "$name"
    done
} >>"$users_tmp"
chmod 600 "$users_tmp"
mv -f "$users_tmp" "$secrets/demo-users.txt"
ss_log "demo data: $created organisation(s) created, ${#orgs[@]} in all; ${#staff[@]} staff users;" \
    "$new_persons of ${#residents[@]} residents and $new_doses of ${#doses[@]} vaccinations new ($secrets/demo-users.txt)"
