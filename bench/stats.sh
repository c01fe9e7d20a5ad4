#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/stats.sh - the statistics benchmarks of issue 13 (H-6), in one run, on a throwaway stack
# of its own (scripts/lib.sh's test profile on ports offset by SESSHU_BENCH_PORT_OFFSET, default
# 2600, with the normal build), with N records (default 10,000,000) loaded:
#  (a) an incremental refresh after 100,000 new records (the service's own path: the records
#      feed, pseudonymisation, stats.apply_page, rendering) against a full rebuild of the count
#      tables from every fact (stats.rebuild(), rendering excluded, which favours the rebuild);
#  (b) GET /api/v1/analytics/immunizations?group_by=prefecture_code,vaccine_code,dose_number&
#      fiscal_year=F&persons=false through the gateway (counts and shares, from stats.cube) against
#      the raw GROUP BY over records.immunizations (same groups and counts) in psql, the counts
#      compared (aim: >= 20x faster); and with persons (distinct, over every fact) for reference;
#  (c) public dataset reads through the gateway (wrk) against the same nginx serving the same
#      bytes as a static file (aim: >= 0.8 of its req/s), plain and gzip.
# The N records go in by SQL as the superuser, as the records service would store them (its
# tables, constraints and feed columns: persons, then five doses each of 5種混合 1-4 and MR 1 over
# eight municipalities and two fiscal years), and into stats.facts as the feed would deliver
# them (the person key here a plain SHA-256 of the id: the bench's, not the service's HMAC);
# the feed cursor is then set after them. Loopback only; everything it starts it stops by PID,
# and its directory (the database included) is removed at the end.
# Usage: bench/stats.sh [seconds=10] [connections=32] [records=10000000]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
. "$root/bench/lib.sh"
secs=${1:-10}
conns=${2:-32}
nrec=${3:-10000000}
nnew=${SESSHU_BENCH_NEW:-100000}
(( nrec % 5 == 0 && nnew % 5 == 0 )) || { echo "bench: records must be multiples of 5" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench: wrk missing (apt-get install wrk)" >&2; exit 1; }
[[ -d $root/tests/api/node_modules ]] || { echo "bench: run scripts/test.sh once (npm packages)" >&2; exit 1; }

SS_REPO=$root # read by scripts/lib.sh
export SS_REPO
# shellcheck source=../scripts/lib.sh
. "$root/scripts/lib.sh"
cleanup() {
    ss_stop_all >/dev/null 2>&1 || true
    [[ -n ${SESSHU_BENCH_KEEP:-} ]] || rm -rf "$work"
}
# The figures refreshed at most every second, as a deployment does every minute (docker-compose),
# so that reads are reads and a refresh is asked for.
export SESSHU_STATS_REFRESH_MS=1000 SESSHU_STATS_MAX_AGE_S=60 SESSHU_GW_STATS_CACHE=on
bench_stack stats 2600
# The stack's gateway, plus one location serving the static copies of (c).
mkdir -p "$work/static"
chmod 755 "$work/static"
ss_gw_render >/dev/null
python3 - "$SS_GW_DIR/nginx.conf" "$work/static" <<'PY'
import sys
p, d = sys.argv[1], sys.argv[2]
s = open(p).read()
i = s.index("        location ")
s = s[:i] + "        location ^~ /bench/static/ { alias %s/; types { text/csv csv; application/x-ndjson ndjson; } }\n" % d + s[i:]
open(p, "w").write(s)
PY
ss_spawn gateway "$SS_LOGDIR/gateway-error.log" "$(command -v nginx || echo /usr/sbin/nginx)" -p "$SS_GW_DIR/" \
    -e "$SS_LOGDIR/gateway-error.log" -c "$SS_GW_DIR/nginx.conf" -g 'daemon off;'
base=http://127.0.0.1:$SS_GW_PORT
for _ in $(seq 100); do curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break; sleep 0.1; done
psql_super() { ss_psql_super -d "$SS_DB_NAME" "$@"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }
curl -fsS -o /dev/null "$base/api/v1/stats/datasets" # the service's tables exist

# --- data ------------------------------------------------------------------------------------
# Eight prefectural capitals, with population figures where the demo has none.
psql_super <<'SQL'
CREATE TABLE public.bench_munis AS
SELECT row_number() OVER (ORDER BY code) - 1 AS i, code FROM (
    SELECT DISTINCT ON (prefecture_code) code FROM master.municipalities
     WHERE superseded_at IS NULL AND prefecture_code IN ('01','04','13','14','23','27','34','40')
     ORDER BY prefecture_code, code) m;
INSERT INTO master.populations (municipality_code, sex, age_band, population, valid_from, source)
SELECT m.code, s.sex, b.band, 20000, '2024-01-01', 'MHLW'
  FROM public.bench_munis m CROSS JOIN (VALUES ('1'), ('2')) s (sex)
 CROSS JOIN (VALUES ('0'), ('1'), ('2-4'), ('5-9'), ('10-14'), ('15-19'), ('20-29'), ('30-39'),
                    ('40-49'), ('50-59'), ('60-69'), ('70-79'), ('80-89'), ('90+')) b (band)
 WHERE NOT EXISTS (SELECT 1 FROM master.populations p WHERE p.municipality_code = m.code);
-- Persons PREFIX, N: born over two years from 2024-02-01, round the municipalities.
CREATE FUNCTION public.bench_persons(prefix text, n int) RETURNS void LANGUAGE sql AS $$
    INSERT INTO records.persons (muni_code, resident_no, name, name_kana, birth_date, sex, address,
                                 created_by, updated_by)
    SELECT m.code, prefix || lpad(g::text, 8, '0'), 'ベンチ 太郎', 'ベンチ タロウ',
           DATE '2024-02-01' + (g % 730), ((g / 8) % 2 + 1)::text, '東京都渋谷区神南1-1-1', 'bench', 'bench'
      FROM generate_series(0, n - 1) g JOIN public.bench_munis m ON m.i = g % 8
$$;
-- Their five doses each, registered 0-9 days after the day, at 10:00 Japan time.
CREATE FUNCTION public.bench_records(prefix text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO records.immunizations (person_id, muni_code, vaccinated_on, vaccine_code,
        disease_codes, dose_number, lot_no, institution_code, doctor_name, dose_ml, category,
        requested_category, source, registered_org_id, registered_by, updated_by, registered_at)
    SELECT p.id, p.muni_code, p.birth_date + d.off, d.vc, d.dc, d.dn, d.lot, '1311012346',
           '医師 一郎', 0.5, 'routine', 'routine', 'health_system',
           '00000000-0000-4000-8000-000000000000', 'bench', 'bench',
           (p.birth_date + d.off + (hashtext(p.resident_no) & 7) + time '10:00') AT TIME ZONE 'Asia/Tokyo'
      FROM records.persons p
     CROSS JOIN (VALUES (61, '631300101', '{diphtheria,pertussis,tetanus,polio,hib}'::text[], 1, 'GB001A'),
                        (89, '631300101', '{diphtheria,pertussis,tetanus,polio,hib}', 2, 'GB001A'),
                        (117, '631300101', '{diphtheria,pertussis,tetanus,polio,hib}', 3, 'GB001A'),
                        (330, '631300101', '{diphtheria,pertussis,tetanus,polio,hib}', 4, 'GB001A'),
                        (372, '631300601', '{measles,rubella}', 1, 'MR123')) d (off, vc, dc, dn, lot)
     WHERE p.resident_no LIKE prefix || '%'
$$;
SQL
echo "== setup: $nrec records (and $((nrec / 5)) persons) by SQL"
t0=$(now)
psql_super -c "SELECT public.bench_persons('B', $((nrec / 5)))"
# The indexes that are no constraint are made after the load (faster than row by row).
idx=$(psql_super -c "SELECT string_agg(pg_get_indexdef(i.indexrelid), ';') FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'records.immunizations'::regclass AND NOT i.indisunique AND c.relname <> 'immunizations_stats_feed'")
drop=$(psql_super -c "SELECT string_agg('DROP INDEX records.' || c.relname, ';') FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'records.immunizations'::regclass AND NOT i.indisunique AND c.relname <> 'immunizations_stats_feed'")
psql_super -c "$drop"
psql_super -c "SELECT public.bench_records('B')"
psql_super -c "$idx"
printf 'records loaded in %s s\n' "$(since "$t0")"
t0=$(now)
psql_super <<'SQL'
INSERT INTO stats.facts (immunization_id, version, status, vaccinated_on, registered_on, muni_code,
    pref_code, vaccine_code, disease_codes, dose_number, category, source, institution_type,
    person_key, sex, birth_month, age_band)
SELECT im.id, im.version, im.status, im.vaccinated_on, (im.registered_at AT TIME ZONE 'Asia/Tokyo')::date,
       im.muni_code, left(im.muni_code, 2), im.vaccine_code, im.disease_codes, im.dose_number,
       im.category, im.source, coalesce(substr(im.institution_code, 3, 1), '-'),
       encode(sha256(convert_to(im.person_id::text, 'UTF8')), 'hex'), p.sex,
       to_char(p.birth_date, 'YYYY-MM'), stats.age_band(extract(year FROM age(im.vaccinated_on, p.birth_date))::int)
  FROM records.immunizations im JOIN records.persons p ON p.id = im.person_id;
UPDATE stats.feed_state SET after = (SELECT txid::text || '-' || seq FROM records.immunizations ORDER BY txid DESC, seq DESC LIMIT 1);
VACUUM ANALYZE records.immunizations;
VACUUM ANALYZE records.persons;
VACUUM ANALYZE stats.facts;
SQL
printf 'facts loaded in %s s\n' "$(since "$t0")"

# --- (a) -------------------------------------------------------------------------------------
echo "== (a) full rebuild of the counts from $nrec facts vs an incremental refresh after $nnew new records"
t0=$(now)
cells=$(psql_super -c "SELECT stats.rebuild()")
rebuild_s=$(since "$t0")
printf '%-40s %8s s (%s cells)\n' "full rebuild (stats.rebuild, SQL)" "$rebuild_s" "$cells"
# One person's five records first: that refresh renders the rebuilt counts (the render's cost).
psql_super -c "SELECT public.bench_persons('W', 1); SELECT public.bench_records('W')"
sleep 1.05
t=$(curl -fsS -o /dev/null -w '%{time_total}' "$base/api/v1/stats/datasets")
printf '%-40s %8.2f s (mostly the render of every dataset)\n' "a refresh of 5 records" "$t"
psql_super -c "SELECT public.bench_persons('N', $((nnew / 5))); SELECT public.bench_records('N')"
target=$(psql_super -c "SELECT txid::text || '-' || seq FROM records.immunizations ORDER BY txid DESC, seq DESC LIMIT 1")
inc_s=0
for _ in $(seq 100); do
    sleep 1.05 # SESSHU_STATS_REFRESH_MS: the next read refreshes
    # Not -f: on a loaded machine the gateway may time out (504) while the refresh goes on; the
    # next read waits for it, so the sum still covers the refresh (less the sleeps).
    read -r t code < <(curl -sS -o /dev/null -w '%{time_total} %{http_code}\n' "$base/api/v1/stats/datasets")
    inc_s=$(awk -v a="$inc_s" -v b="$t" 'BEGIN{printf "%.2f", a+b}')
    printf '   a read that refreshed: %s s (%s)\n' "$t" "$code"
    [[ $(psql_super -c "SELECT after FROM stats.feed_state") == "$target" ]] && break
done
printf '%-40s %8s s (feed, apply and render, summed over the reads that refreshed)\n' "incremental refresh ($nnew records)" "$inc_s"
diff=$(psql_super -c "SELECT count(*) FROM stats.rebuild_diff")
printf 'rows where incremental and rebuilt counts differ: %s\n' "$diff"
awk -v a="$rebuild_s" -v b="$inc_s" 'BEGIN{printf "ratio (a) rebuild/incremental = %.1f\n", a/b}'

# --- (b) -------------------------------------------------------------------------------------
fy=2025
echo "== (b) analytics prefecture x product x dose, FY$fy: API vs raw GROUP BY over the records (best of 3)"
setup=$(cd "$root/tests/api" && SESSHU_TEST_BASE_URL=$base SESSHU_TEST_ENV_FILE=$SS_ENV_FILE \
    SESSHU_TEST_ADMIN_PASSWORD=$(cat "$SS_SECRETS/admin-password") node "$root/bench/stats-setup.mjs")
token=$(jq -r .token <<<"$setup")
url="$base/api/v1/analytics/immunizations?group_by=prefecture_code,vaccine_code,dose_number&fiscal_year=$fy&persons=false"
raw="SELECT left(muni_code, 2), vaccine_code, dose_number, count(*) FROM records.immunizations WHERE status <> 'voided' AND vaccinated_on BETWEEN '$fy-04-01' AND '$((fy + 1))-03-31' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
api_best=999999 raw_best=999999
for _ in 1 2 3; do
    t=$(curl -fsS -o "$work/analytics.json" -w '%{time_total}' -H "Authorization: Bearer $token" "$url")
    api_best=$(awk -v a="$api_best" -v b="$t" 'BEGIN{print (b < a) ? b : a}')
    t0=$(now)
    psql_super -c "$raw" >"$work/raw.txt"
    raw_best=$(awk -v a="$raw_best" -v b="$(since "$t0")" 'BEGIN{print (b < a) ? b : a}')
done
t=$(curl -fsS -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" "${url%&persons=false}")
printf '%-40s %8.3f s\n' "analytics API with persons (once)" "$t"
printf '%-40s %8.3f s (%s groups)\n' "analytics API" "$api_best" "$(jq '.items | length' "$work/analytics.json")"
printf '%-40s %8.3f s (%s groups)\n' "raw GROUP BY (psql)" "$raw_best" "$(wc -l <"$work/raw.txt")"
# The same figures, or the comparison means nothing.
jq -r '.items[] | [.prefecture_code, .vaccine_code, .dose_number, .count] | @tsv' "$work/analytics.json" | sort >"$work/a.tsv"
awk -F'|' '{print $1"\t"$2"\t"$3"\t"$4}' "$work/raw.txt" | sort >"$work/r.tsv"
cmp -s "$work/a.tsv" "$work/r.tsv" || { echo "bench: the analytics API's counts differ from the raw GROUP BY:" >&2; diff "$work/a.tsv" "$work/r.tsv" | head >&2; exit 1; }
awk -v a="$api_best" -v b="$raw_best" 'BEGIN{printf "ratio (b) raw/api = %.1f (aim >= 20)\n", b/a}'

# --- (c) -------------------------------------------------------------------------------------
for ds in vaccinations-by-prefecture coverage-by-prefecture; do
    curl -fsS -o "$work/static/$ds.csv" "$base/api/v1/stats/datasets/$ds?format=csv"
    chmod 644 "$work/static/$ds.csv"
    bytes=$(stat -c %s "$work/static/$ds.csv")
    echo "== (c) $ds.csv ($bytes bytes): gateway -> stats vs the same bytes as a static file (wrk -t2 -c$conns -d${secs}s)"
    bench_wrk "$ds" -t2 -c"$conns" -d"${secs}s" "$base/api/v1/stats/datasets/$ds?format=csv"
    bench_wrk "$ds-static" -t2 -c"$conns" -d"${secs}s" "$base/bench/static/$ds.csv"
    bench_wrk "$ds-gz" -t2 -c"$conns" -d"${secs}s" -H 'Accept-Encoding: gzip' "$base/api/v1/stats/datasets/$ds?format=csv"
    bench_wrk "$ds-static-gz" -t2 -c"$conns" -d"${secs}s" -H 'Accept-Encoding: gzip' "$base/bench/static/$ds.csv"
    awk -v a="${RPS[$ds]}" -v b="${RPS[$ds-static]}" -v c="${RPS[$ds-gz]}" -v d="${RPS[$ds-static-gz]}" \
        'BEGIN{printf "ratio (c) %s: plain %.2f, gzip %.2f (aim >= 0.8)\n", "'"$ds"'", a/b, c/d}'
done
# --- profile (SESSHU_BENCH_PROFILE=1): one feed page's statements and the render's ----------
if [[ -n ${SESSHU_BENCH_PROFILE:-} ]]; then
    echo "== profile: one page of 250 records (bench/stats-profile.sql) and the render's statements"
    psql_super -v ON_ERROR_STOP=1 -f "$root/bench/stats-profile.sql" 2>&1 || true
    # The render's statements, as datasets.sql has them, each EXPLAIN ANALYZE'd with k = 10 and
    # the render's work_mem (stat_render_memory in outputs.sql).
    python3 - "$root/services/stats/sql/datasets.sql" >"$work/render-profile.sql" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
for m in re.finditer(r'-- name: (\S+)\n(.*?;)\n', src + '\n', re.S):
    body = '\n'.join(l for l in m.group(2).split('\n') if not l.lstrip().startswith('--'))
    print("\\echo '-- %s'\nSET work_mem = '32MB';\nPREPARE p(int) AS\n%s\nEXPLAIN (ANALYZE, BUFFERS, SUMMARY ON) EXECUTE p(10);\nDEALLOCATE p;" % (m.group(1), body))
PY
    psql_super -v ON_ERROR_STOP=1 -f "$work/render-profile.sql" 2>&1 || true
fi
printf 'stats service VmRSS: %s\n' "$(awk '/VmRSS/ {print $2" "$3}' "/proc/$(cat "$SS_RUN/stats.pid")/status")"
printf 'database size: %s\n' "$(psql_super -c "SELECT pg_size_pretty(pg_database_size(current_database()))")"
