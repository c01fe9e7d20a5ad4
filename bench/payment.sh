#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/payment.sh - the claims benchmark of issue 12, in one run, on a throwaway stack of its own
# (scripts/lib.sh's test profile on ports offset by SESSHU_BENCH_PORT_OFFSET, default 2900, with
# the normal build): a month of one large prefecture, N claimable records (default 1,000,000) of
# INSTS institutions (default 200) and four municipalities, through the service's own path over
# the gateway (bench/payment-run.mjs: collect, close, the 国保連合会's accept-all review,
# invoices, the municipalities' payments, the payment run, its approval and the Zengin file),
# against the bare SQL aggregate over the same rows in the same run (one GROUP BY institution
# pricing the records from the unit-price master, in psql). Prints each step's seconds, the
# ratio bare/service (aim >= 0.5), the bare write of the same lines in one statement (the floor
# of keeping a line a record) and the payment service's peak memory (VmHWM), and fails when
# the run's amount per institution differs from the aggregate's.
# The records go in by SQL as the superuser, as the records service would store them (its
# tables and constraints: one person and one MR dose 1 each, registered by the institution,
# claimable), in the month before the current one; organisations, prices and bank accounts go
# through the API (bench/payment-setup.mjs). Loopback only; everything it starts it stops by
# PID, and its directory (the database included) is removed at the end.
# SESSHU_BENCH_STATEMENTS=1 prints where the database's time went (pg_stat_statements).
# Usage: bench/payment.sh [records=1000000] [institutions=200] [concurrency=2]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
nrec=${1:-1000000}
ninst=${2:-200}
conc=${3:-2}
(( nrec >= ninst && ninst >= 2 )) || { echo "bench: need records >= institutions >= 2" >&2; exit 1; }
[[ -d $root/tests/api/node_modules ]] || { echo "bench: run scripts/test.sh once (npm packages)" >&2; exit 1; }

SS_REPO=$root # read by scripts/lib.sh
export SS_REPO
# shellcheck source=../scripts/lib.sh
. "$root/scripts/lib.sh"
# shellcheck source=lib.sh
. "$root/bench/lib.sh"
cleanup() {
    ss_stop_all >/dev/null 2>&1 || true
    [[ -n ${SESSHU_BENCH_KEEP:-} ]] || rm -rf "$work"
}
# An hour's access tokens (setup and run use the same ones); the month closes on the 10th.
export SESSHU_ACCESS_TTL_S=3600 SESSHU_PAYMENT_CLOSE_DAY=10
# SESSHU_BENCH_STATEMENTS=1: pg_stat_statements on (nested statements too: the functions' own),
# and the statements that cost PostgreSQL most printed after the service's path (a diagnosis; it
# slows the database a little).
# SESSHU_BENCH_PROFILE=1: the plans, with each node's time, of the statements (nested ones too)
# that took 400 ms or more (auto_explain), written to payment-plans.txt in
# $SESSHU_BENCH_PERF_DIR (default the work directory: keep it with SESSHU_BENCH_KEEP=1).
pg_stats=${SESSHU_BENCH_STATEMENTS:-0}
bench_pg_conf() {
    local preload=()
    [[ $pg_stats == 1 ]] && preload+=(pg_stat_statements)
    [[ ${SESSHU_BENCH_PROFILE:-0} == 1 ]] && preload+=(auto_explain)
    if ((${#preload[@]})); then
        printf "shared_preload_libraries = '%s'\npg_stat_statements.track = all\n" "$(IFS=,; echo "${preload[*]}")" >>"$SS_PGDATA/postgresql.conf"
    fi
    if [[ ${SESSHU_BENCH_PROFILE:-0} == 1 ]]; then
        printf "auto_explain.log_min_duration = '400ms'\nauto_explain.log_analyze = on\nauto_explain.log_nested_statements = on\n" >>"$SS_PGDATA/postgresql.conf"
    fi
}
bench_stack payment 2900
if [[ $pg_stats == 1 ]]; then
    ss_psql_super -d "$SS_DB_NAME" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
fi
ss_gw_start >/dev/null
base=http://127.0.0.1:$SS_GW_PORT
for _ in $(seq 100); do curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break; sleep 0.1; done
psql_super() { ss_psql_super -d "$SS_DB_NAME" "$@"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.3f", b-a}'; }

# The month of the vaccinations (the one before this, Japan time) and the claim month its lines
# go to: itself up to its close day (the 10th), else the current month.
month=$(TZ=Asia/Tokyo date -d "$(TZ=Asia/Tokyo date +%Y-%m-01) -1 month" +%Y-%m)
claim=$month
(( 10#$(TZ=Asia/Tokyo date +%d) <= 10 )) || claim=$(TZ=Asia/Tokyo date +%Y-%m)

echo "== setup: $ninst institutions, 4 municipalities, bank accounts (API)"
t0=$(now)
(cd "$root/tests/api" && SESSHU_TEST_BASE_URL=$base SESSHU_TEST_ENV_FILE=$SS_ENV_FILE \
    SESSHU_TEST_ADMIN_PASSWORD=$(cat "$SS_SECRETS/admin-password") \
    node "$root/bench/payment-setup.mjs" "$ninst" 4) >"$work/setup.json"
pref=$(jq -r .pref "$work/setup.json")
printf 'prefecture %s, made in %s s\n' "$pref" "$(since "$t0")"
# The accounts start in the current month through the API; dated back to the claim month here.
psql_super -c "UPDATE payment.bank_accounts SET effective_from = '$claim-01' WHERE pref_code = '$pref'" >/dev/null
jq -r '.insts | to_entries[] | [.key, .value.code, .value.org_id] | @tsv' "$work/setup.json" >"$work/insts.tsv"
jq -r '.munis | to_entries[] | [.key, .value.code] | @tsv' "$work/setup.json" >"$work/munis.tsv"

echo "== setup: $nrec records by SQL (month $month, claim month $claim)"
t0=$(now)
psql_super <<SQL
CREATE TABLE public.bench_insts (i int PRIMARY KEY, code text, org_id uuid);
CREATE TABLE public.bench_munis (i int PRIMARY KEY, code text);
\copy public.bench_insts FROM '$work/insts.tsv'
\copy public.bench_munis FROM '$work/munis.tsv'
INSERT INTO records.persons (muni_code, resident_no, name, name_kana, birth_date, sex, address,
                             created_by, updated_by)
SELECT m.code, 'P' || lpad(g::text, 9, '0'), 'ベンチ 太郎', 'ベンチ タロウ',
       DATE '$month-01' - 400 + (g % 28), (g % 2 + 1)::text, '東京都渋谷区神南1-1-1', 'bench', 'bench'
  FROM generate_series(0, $nrec - 1) g JOIN public.bench_munis m ON m.i = g % 4;
INSERT INTO records.immunizations (person_id, muni_code, vaccinated_on, vaccine_code,
    disease_codes, dose_number, lot_no, institution_code, doctor_name, dose_ml, category,
    requested_category, source, claimable, registered_org_id, registered_by, updated_by)
SELECT p.id, p.muni_code, DATE '$month-01' + (n % 28), '631300601', '{measles,rubella}', 1,
       'MR123', i.code, '医師 一郎', 0.5, 'routine', 'routine', 'institution', true, i.org_id,
       'bench', 'bench'
  FROM (SELECT id, muni_code, substr(resident_no, 2)::int AS n FROM records.persons
         WHERE resident_no LIKE 'P%') p
  JOIN public.bench_insts i ON i.i = p.n % $ninst;
VACUUM ANALYZE records.persons;
VACUUM ANALYZE records.immunizations;
SQL
printf 'records loaded in %s s\n' "$(since "$t0")"

echo "== the service's path through the gateway (concurrency $conc)"
payment_pid=$(cat "$SS_RUN/payment.pid")
if [[ $pg_stats == 1 ]]; then
    psql_super -c "SELECT pg_stat_statements_reset()" >/dev/null
fi
(cd "$root/tests/api" && SESSHU_TEST_BASE_URL=$base SESSHU_TEST_ENV_FILE=$SS_ENV_FILE \
    SESSHU_TEST_ADMIN_PASSWORD=$(cat "$SS_SECRETS/admin-password") \
    node "$root/bench/payment-run.mjs" "$work/setup.json" "$month" "$claim" "$conc") >"$work/run.json"
jq -r '.steps | to_entries[] | "   \(.key)\t\(.value) s"' "$work/run.json"
svc_s=$(jq -r .total_s "$work/run.json")
printf '%-44s %10s s (%s lines, %s invoices, Zengin %s bytes, %s data records)\n' "service path (collect .. Zengin file)" "$svc_s" \
    "$(jq -r .lines "$work/run.json")" "$(jq -r .invoices "$work/run.json")" \
    "$(jq -r .zengin_bytes "$work/run.json")" "$(jq -r .zengin_data_records "$work/run.json")"

if [[ $pg_stats == 1 ]]; then
    echo "== where the database's time went (pg_stat_statements, top ${SESSHU_BENCH_STATEMENTS_TOP:-15})"
    psql_super -F ' | ' -At -c "SELECT round(total_exec_time::numeric) || ' ms', calls,
        round((total_exec_time / greatest(calls, 1))::numeric, 3) || ' ms/call', rows,
        left(regexp_replace(query, '\s+', ' ', 'g'), 110)
        FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT ${SESSHU_BENCH_STATEMENTS_TOP:-15}" | sed 's/^/   /'
fi

if [[ ${SESSHU_BENCH_PROFILE:-0} == 1 ]]; then
    plans=${SESSHU_BENCH_PERF_DIR:-$work}/payment-plans.txt
    # The log's "duration: … plan:" entries, each with the plan lines after it.
    awk '/LOG:  duration: .* plan:/ {on = 1} on && /^[0-9]{4}-[0-9]{2}-[0-9]{2} / && !/plan:/ {on = 0} on' \
        "$SS_LOGDIR/postgresql.log" >"$plans"
    echo "plans (auto_explain): $plans ($(grep -c 'plan:' "$plans") statements)"
fi

echo "== the bare SQL aggregate over the same rows (best of 3)"
raw="SELECT im.institution_code, count(*), sum(greatest(u.price_yen - u.self_pay_yen, 0))
  FROM records.immunizations im JOIN master.unit_prices u ON u.municipality_code = im.muni_code
   AND u.vaccine_code = im.vaccine_code AND u.dose_number = im.dose_number
   AND u.superseded_at IS NULL AND u.valid_from <= im.vaccinated_on
   AND (u.valid_to IS NULL OR u.valid_to >= im.vaccinated_on)
 WHERE left(im.institution_code, 2) = '$pref' AND im.claimable AND im.status <> 'voided'
   AND im.vaccinated_on >= DATE '$month-01' AND im.vaccinated_on < DATE '$month-01' + interval '1 month'
 GROUP BY 1 ORDER BY 1"
raw_best=999999
for _ in 1 2 3; do
    t0=$(now)
    psql_super -c "$raw" >"$work/raw.txt"
    raw_best=$(awk -v a="$raw_best" -v b="$(since "$t0")" 'BEGIN{print (b < a) ? b : a}')
done
printf '%-44s %10s s (%s institutions)\n' "bare GROUP BY institution (psql)" "$raw_best" "$(wc -l <"$work/raw.txt")"
# The floor of any design that keeps a line per record, as the issue asks ("each claimable record
# becomes a claim line"): the same rows priced and written once, in one statement, into a table
# with payment.claim_lines' columns and checks — once with its indexes, once bare (a heap, no
# index at all) — each created in a transaction of its own so that the write is WAL-logged like
# the service's.
bare_write() { # $1 table, $2 LIKE options; prints the seconds
    psql_super -c "CREATE TABLE public.$1 (LIKE payment.claim_lines $2)" >/dev/null
    local t0
    t0=$(now)
    psql_super -c "INSERT INTO public.$1 (batch_id, kind, record_id, record_version,
        record_status, person_id, muni_code, institution_code, pref_code, vaccinated_on,
        vaccine_code, dose_number, basis, price_yen, self_pay_yen, claim_yen, eligibility, status)
      SELECT gen_random_uuid(), 'claim', im.id, im.version, im.status, im.person_id, im.muni_code,
             im.institution_code, left(im.institution_code, 2), im.vaccinated_on, im.vaccine_code,
             im.dose_number, 'unit_price', u.price_yen, u.self_pay_yen,
             greatest(u.price_yen - u.self_pay_yen, 0), 'in_area', 'claimed'
        FROM records.immunizations im JOIN master.unit_prices u ON u.municipality_code = im.muni_code
         AND u.vaccine_code = im.vaccine_code AND u.dose_number = im.dose_number
         AND u.superseded_at IS NULL AND u.valid_from <= im.vaccinated_on
         AND (u.valid_to IS NULL OR u.valid_to >= im.vaccinated_on)
       WHERE left(im.institution_code, 2) = '$pref' AND im.claimable AND im.status <> 'voided'
         AND im.vaccinated_on >= DATE '$month-01'
         AND im.vaccinated_on < DATE '$month-01' + interval '1 month'" >/dev/null
    since "$t0"
}
write_s=$(bare_write bench_lines 'INCLUDING ALL')
heap_s=$(bare_write bench_heap 'INCLUDING DEFAULTS INCLUDING CONSTRAINTS')
printf '%-44s %10s s (%s lines)\n' "bare write of the lines, claim_lines' indexes" "$write_s" \
    "$(psql_super -Atc "SELECT count(*) FROM public.bench_lines")"
printf '%-44s %10s s\n' "bare write of the lines, no index" "$heap_s"
# The same amounts, or the comparison means nothing.
jq -r '.per_inst | to_entries[] | "\(.key)\t\(.value)"' "$work/run.json" | sort >"$work/a.tsv"
awk -F'|' '{print $1"\t"$3}' "$work/raw.txt" | sort >"$work/r.tsv"
cmp -s "$work/a.tsv" "$work/r.tsv" || { echo "bench: the payment run's amounts differ from the bare aggregate:" >&2; diff "$work/a.tsv" "$work/r.tsv" | head >&2; exit 1; }
echo "amounts per institution: the payment run equals the bare aggregate"
awk -v a="$raw_best" -v b="$svc_s" 'BEGIN{printf "ratio bare/service = %.4f (aim >= 0.5)\n", a/b}'
awk -v a="$raw_best" -v w="$write_s" -v h="$heap_s" -v b="$svc_s" 'BEGIN{printf "ratio bare/write of the lines = %.4f with the indexes, %.4f without (the best any design keeping a line a record can reach); write/service = %.4f\n", a/w, a/h, w/b}'
printf 'payment service peak memory (VmHWM): %s, now (VmRSS): %s\n' \
    "$(awk '/VmHWM/ {print $2" "$3}' "/proc/$payment_pid/status")" \
    "$(awk '/VmRSS/ {print $2" "$3}' "/proc/$payment_pid/status")"
printf 'database size: %s\n' "$(psql_super -c "SELECT pg_size_pretty(pg_database_size(current_database()))")"
