#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/scale.sh - the scale benchmark of issue 15 §3, on a throwaway stack of its own
# (scripts/lib.sh's test profile on ports offset by SESSHU_BENCH_PORT_OFFSET, default 2700, with
# the normal build, rate limits lifted): P persons, R records and L access-log rows (defaults
# 10,000,000 / 50,000,000 / 100,000,000), and whether the requests a municipality makes keep the
# latency they have on a small database:
#  - staff lookups (GET /api/v1/persons by 宛名番号, and by kana name and birth date: the
#    municipality's own staff API),
#  - the change feed a health-management system pulls (GET /api/v1/linkage/immunizations, the
#    last 100 changes after a cursor),
#  - a registration (POST /api/v1/immunizations, a fresh Idempotency-Key and person each time),
#  - an access-log query (GET /api/v1/access-logs?person_id=: who looked at this resident),
# each at light load (wrk -t1 -c4), p50 and p99, first on a small database (the first slice of
# the data: 5,000 persons with their records and log rows), then after the load to full size and
# ANALYZE; then the bytes on disk per person, per record and per log row (tables with their
# indexes, TOAST and partitions) and the database size. Printed as a table, small vs large.
# The data goes in by SQL as the superuser, as the records service stores it (persons with their
# residence and first version as an import makes them, records as the bulk import writes them;
# 10% of the persons in the bench's municipality, the rest round the master's municipalities);
# access-log rows through audit.append in batches, from two loader streams, so every row is a
# valid chained row (a verify of the last 100,000 rows checks it). Indexes that are no
# constraint, and the loaded tables' foreign keys, are dropped for the load and made again after
# it (faster than row by row; making a foreign key again checks every row). persons and
# immunizations are partitioned by municipality (records migration 048): the sizes sum the
# partitions, and the staff lookups' and the feed's plans show which partitions each reads.
# The disk needed is estimated first (bytes per row measured at 20,000 / 100,000 / 200,000) and
# the run refused when it exceeds 80% of the free space where the database goes.
# Loopback only; everything it starts it stops by PID, and its directory (the database
# included) is removed at the end or on a signal.
# Usage: bench/scale.sh [persons=10000000] [records=50000000] [logrows=100000000]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
. "$root/bench/lib.sh"
np=${1:-10000000}
nr=${2:-50000000}
nl=${3:-100000000}
secs=${SESSHU_BENCH_SECONDS:-5}
for v in "$np" "$nr" "$nl"; do
    [[ $v =~ ^[0-9]+$ ]] || { echo "bench: counts must be whole numbers" >&2; exit 1; }
done
(( np >= 5000 && nr <= 5 * np && nl >= np )) ||
    { echo "bench: need persons >= 5000, records <= 5 x persons, log rows >= persons" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench: wrk missing (apt-get install wrk)" >&2; exit 1; }
[[ -d $root/tests/api/node_modules ]] || { echo "bench: run scripts/test.sh once (npm packages)" >&2; exit 1; }

# --- disk: bytes per person (with residence and version), record and log row, rounded up from
# the runs' figures (persons 1,316 and records 582 at 210,000 / 1,000,000; the log row 769 at
# 10^6 after audit 010/011, bench/audit-size.sh); +30% for WAL and the index builds' sort files,
# and 2 GiB for the stack and its logs.
tmpbase=${SESSHU_BENCH_TMPDIR:-/tmp}
need=$(( (np * 1400 + nr * 660 + nl * 850) * 13 / 10 + (2 << 30) ))
free=$(df -PB1 "$tmpbase" | awk 'NR == 2 {print $4}')
gib() { awk -v b="$1" 'BEGIN{printf "%.1f GiB", b / 1073741824}'; }
if (( need > free * 8 / 10 )); then
    echo "bench: $np persons, $nr records and $nl log rows need about $(gib "$need") on disk;" \
        "80% of the free space in $tmpbase is $(gib $(( free * 8 / 10 ))). Pass smaller counts" \
        "(bench/scale.sh PERSONS RECORDS LOGROWS) or set SESSHU_BENCH_TMPDIR." >&2
    exit 2
fi
echo "== disk: about $(gib "$need") needed, $(gib "$free") free in $tmpbase"

SS_REPO=$root # read by scripts/lib.sh
export SS_REPO
# shellcheck source=../scripts/lib.sh
. "$root/scripts/lib.sh"
loaders=()
cleanup() {
    local p
    for p in "${loaders[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${loaders[@]}"; do wait "$p" 2>/dev/null || true; done
    ss_stop_all >/dev/null 2>&1 || true
    [[ -n ${SESSHU_BENCH_KEEP:-} ]] || rm -rf "$work"
}
# Room for the load's WAL between checkpoints and for the index builds (same in both phases).
bench_pg_conf() {
    printf 'max_wal_size = 4GB\nmaintenance_work_mem = 256MB\n' | ss_as_pg tee -a "$SS_PGDATA/sesshu.conf" >/dev/null
}
SESSHU_BENCH_TMPDIR=$tmpbase bench_stack scale 2700
ss_gw_start >/dev/null 2>&1
base=http://127.0.0.1:$SS_GW_PORT
for _ in $(seq 100); do curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break; sleep 0.1; done
psql_super() { ss_psql_super -d "$SS_DB_NAME" "$@"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }
node_setup() {
    (cd "$root/tests/api" && SESSHU_TEST_BASE_URL=$base SESSHU_TEST_ENV_FILE=$SS_ENV_FILE \
        SESSHU_TEST_ADMIN_PASSWORD=$(cat "$SS_SECRETS/admin-password") node "$root/bench/scale-setup.mjs" "$@")
}
setup=$(node_setup org)
token=$(jq -r .token <<<"$setup")
muni=$(jq -r .muni <<<"$setup")
[[ $muni =~ ^[0-9]{6}$ ]] || { echo "bench: no municipality code from the setup" >&2; exit 1; }

# --- the generators ---------------------------------------------------------------------------
# bench_people: person number g -> id and municipality (10% the bench's, the rest round the
# master's current municipalities); the loaders' map, outside the measured schemas.
psql_super -v muni="$muni" -f "$root/bench/log-rows.sql" >/dev/null
# Bytes of a table with its indexes and TOAST, and of every partition it has (a table that is
# not partitioned has no partition tree: its own size).
psql_super -c "CREATE FUNCTION public.bench_bytes(t regclass) RETURNS bigint LANGUAGE sql AS
  'SELECT coalesce((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree(t)),
                   pg_total_relation_size(t))::bigint'" >/dev/null

# batches STREAM FROM TO SIZE LO SPAN: the loader stream's calls (every other batch of rows).
batches() {
    local r n
    for (( r = $2 + $1 * $4; r < $3; r += 2 * $4 )); do
        n=$(( $3 - r < $4 ? $3 - r : $4 ))
        echo "SELECT public.bench_log('bench-loader/$1', $r, $n, $5, $6);"
    done
}

# load LO HI: persons g in [LO, HI) (with residence and first version, as an import makes them),
# their records (R/P each, one more for the first R mod P: 5種混合 1-4 and MR 1) and their
# share of the log rows (the log through two loader streams in parallel).
load() {
    local lo=$1 hi=$2 t0 llo lhi b s p
    t0=$(now)
    psql_super -v muni="$muni" -v lo="$lo" -v hi="$hi" -v per=$(( nr / np )) -v extra=$(( nr % np )) <<'SQL'
INSERT INTO public.bench_people (g, id, muni)
SELECT g, gen_random_uuid(), CASE WHEN g % 10 = 0 OR m.code IS NULL THEN :'muni' ELSE m.code END
  FROM generate_series(:lo::bigint, :hi::bigint - 1) g
  LEFT JOIN public.bench_munis m ON m.i = g % greatest((SELECT count(*) FROM public.bench_munis), 1);
INSERT INTO records.persons (id, muni_code, resident_no, name, name_kana, birth_date, sex, address,
                             created_by, updated_by)
SELECT b.id, b.muni, 'B' || lpad(b.g::text, 9, '0'), 'ベンチ 太郎',
       (ARRAY['アオキ','イシイ','ウエダ','エンドウ','オオタ','カトウ','キムラ','クボタ','ケンモチ','コバヤシ',
              'サトウ','シミズ','スズキ','セキ','ソノダ','タナカ','チバ','ツジ','テラダ','トミタ'])[1 + (b.g / 7) % 20]
       || ' ' ||
       (ARRAY['アキラ','イサム','ウタ','エミ','オサム','カナ','キヨシ','クミ','ケン','コウタ',
              'サクラ','シン','スミレ','セイジ','ソラ','タロウ','チカ','ツバサ','テツ','トモ'])[1 + (b.g / 139) % 20],
       DATE '2023-06-01' + (b.g % 730)::int, ((b.g / 8) % 2 + 1)::text, '東京都渋谷区神南1-1-1', 'bench', 'bench'
  FROM public.bench_people b WHERE b.g >= :lo AND b.g < :hi;
INSERT INTO records.residences (person_id, person_muni, muni_code, resident_no)
SELECT p.id, p.muni_code, p.muni_code, p.resident_no
  FROM public.bench_people b JOIN records.persons p ON p.id = b.id AND p.muni_code = b.muni
 WHERE b.g >= :lo AND b.g < :hi;
INSERT INTO records.person_versions (person_id, person_muni, version, change, doc, changed_by)
SELECT p.id, p.muni_code, 1, 'imported', records.person_json(p, NULL), 'bench'
  FROM public.bench_people b JOIN records.persons p ON p.id = b.id AND p.muni_code = b.muni
 WHERE b.g >= :lo AND b.g < :hi;
-- Doses 0-7 days registered after the day, at 10:00 Japan time, from the health system.
INSERT INTO records.immunizations (person_id, muni_code, person_muni, vaccinated_on, vaccine_code,
    disease_codes, dose_number, lot_no, institution_code, doctor_name, dose_ml, category,
    requested_category, source, registered_org_id, registered_by, updated_by, registered_at)
SELECT b.id, b.muni, b.muni, DATE '2023-06-01' + (b.g % 730)::int + d.off, d.vc, d.dc, d.dn, d.lot, '1311012346',
       '医師 一郎', 0.5, 'routine', 'routine', 'health_system',
       '00000000-0000-4000-8000-000000000000', 'bench', 'bench',
       (DATE '2023-06-01' + (b.g % 730)::int + d.off + (b.g & 7)::int + time '10:00') AT TIME ZONE 'Asia/Tokyo'
  FROM public.bench_people b
 CROSS JOIN (VALUES (0, 61, '631300101', '{diphtheria,pertussis,tetanus,polio,hib}'::text[], 1, 'GB001A'),
                    (1, 89, '631300101', '{diphtheria,pertussis,tetanus,polio,hib}', 2, 'GB001A'),
                    (2, 117, '631300101', '{diphtheria,pertussis,tetanus,polio,hib}', 3, 'GB001A'),
                    (3, 330, '631300101', '{diphtheria,pertussis,tetanus,polio,hib}', 4, 'GB001A'),
                    (4, 372, '631300601', '{measles,rubella}', 1, 'MR123')) d (k, off, vc, dc, dn, lot)
 WHERE b.g >= :lo AND b.g < :hi AND d.k < :per + (b.g < :extra)::int;
SQL
    printf '   persons %s-%s and their records: %s s\n' "$lo" "$hi" "$(since "$t0")"
    t0=$(now)
    llo=$(( nl * lo / np ))
    lhi=$(( nl * hi / np ))
    b=${SESSHU_BENCH_LOG_BATCH:-500}
    loaders=()
    for s in 0 1; do
        batches "$s" "$llo" "$lhi" "$b" "$lo" $(( hi - lo )) | psql_super >/dev/null &
        loaders+=($!)
    done
    for p in "${loaders[@]}"; do wait "$p"; done
    loaders=()
    printf '   log rows %s-%s: %s s\n' "$llo" "$lhi" "$(since "$t0")"
}

# regpersons PREFIX N: persons for one phase's registrations, born 2026-06-01, no records, in
# the bench's municipality, made as an import makes them; their ids in $work/reg-PREFIX.txt.
regpersons() {
    psql_super -v muni="$muni" -v s="$1" -v n="$2" <<'SQL'
INSERT INTO records.persons (muni_code, resident_no, name, name_kana, birth_date, sex, address,
                             created_by, updated_by)
SELECT :'muni', :'s' || lpad(g::text, 8, '0'), 'ベンチ 花子', 'ベンチ ハナコ', DATE '2026-06-01', '2',
       '東京都渋谷区神南1-1-1', 'bench', 'bench'
  FROM generate_series(0, :n - 1) g;
INSERT INTO records.residences (person_id, muni_code, resident_no)
SELECT id, muni_code, resident_no FROM records.persons WHERE muni_code = :'muni' AND resident_no LIKE :'s' || '%';
INSERT INTO records.person_versions (person_id, version, change, doc, changed_by)
SELECT p.id, 1, 'imported', records.person_json(p, NULL), 'bench'
  FROM records.persons p WHERE muni_code = :'muni' AND resident_no LIKE :'s' || '%';
SQL
    psql_super -c "COPY (SELECT id FROM records.persons WHERE muni_code = '$muni' AND resident_no LIKE '$1%' ORDER BY resident_no) TO STDOUT" >"$work/reg-$1.txt"
}
# Enough for ~1,000 registrations a second (a quiet machine does ~300 at this load).
nreg=$(( secs * 1000 ))

# --- the requests -------------------------------------------------------------------------------
# GET paths round a list (PATHS_FILE); registrations of dose 1 of 5種混合, one person each.
cat >"$work/paths.lua" <<'LUA'
local paths = {}
for line in io.lines(os.getenv("PATHS_FILE")) do paths[#paths + 1] = line end
local n = 0
request = function()
    n = n + 1
    return wrk.format("GET", paths[(n % #paths) + 1])
end
LUA
cat >"$work/register.lua" <<'LUA'
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
local n = 0
request = function()
    n = n + 1
    local id = ids[((n - 1) % #ids) + 1]
    local body = '{"person_id":"' .. id .. '","vaccinated_on":"2026-08-01","vaccine_code":"631300101",' ..
        '"dose_number":1,"lot_no":"GB001A","institution_code":"1311012346","doctor_name":"医師 一郎",' ..
        '"category":"routine"}'
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["Idempotency-Key"] = "scale-" .. id
    return wrk.format("POST", nil, nil, body)
end
LUA

# The same residents are asked for in both phases (the first slice's persons of the bench's
# municipality): the answers have the same size, only the tables around them grow.
sample() {
    psql_super -c "SELECT b.g, p.resident_no, p.name_kana, p.birth_date, p.id FROM public.bench_people b JOIN records.persons p ON p.id = b.id WHERE b.g < 5000 AND b.muni = '$muni' ORDER BY b.g" >"$work/sample.txt"
    awk -F'|' '{print "/api/v1/persons?resident_no=" $2}' "$work/sample.txt" >"$work/lookup.txt"
    jq -Rr 'split("|") | "/api/v1/persons?name_kana=\(.[2] | @uri)&birth_date=\(.[3])"' "$work/sample.txt" >"$work/kana.txt"
    awk -F'|' '{print "/api/v1/access-logs?person_id=" $5 "&limit=50"}' "$work/sample.txt" >"$work/logs.txt"
}

# quiet: wait (up to 10 min) until the database runs no statement of the stack's: a request
# wrk gave up on may still be running, and would weigh on the next figure.
quiet() {
    local i
    for (( i = 0; i < 600; i++ )); do
        [[ $(psql_super -c "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()") == 0 ]] && return 0
        sleep 1
    done
}
# one NAME PATH: one request alone (curl's total time, ms), and the number of items answered.
declare -A ONE
one() {
    local t
    t=$(curl -fsS -m 900 -o "$work/one.json" -w '%{time_total}' "${auth[@]}" "$base$2")
    ONE[$1]=$(awk -v t="$t" 'BEGIN{printf "%.1f", t * 1000}')
    printf '   %-22s one request alone %10s ms, %s items\n' "$1" "${ONE[$1]}" "$(jq '.items | length' "$work/one.json")"
}

# measure PHASE REG-LIST: the five latencies at light load (wrk -t1 -c4; a request may take up
# to a minute), then each request alone.
measure() {
    local ph=$1 cur sent w=(-t1 -c4 -d"${secs}s" --timeout 60s)
    auth=(-H "Authorization: Bearer $token")
    # The cursor 100 changes before the end of the municipality's feed.
    cur=$(psql_super -c "SELECT txid::text || '-' || seq FROM records.immunizations WHERE muni_code = '$muni' ORDER BY txid DESC, seq DESC OFFSET 100 LIMIT 1")
    quiet
    PATHS_FILE=$work/lookup.txt bench_wrk "$ph-lookup" "${w[@]}" -s "$work/paths.lua" "${auth[@]}" "$base"
    quiet
    PATHS_FILE=$work/kana.txt bench_wrk "$ph-kana" "${w[@]}" -s "$work/paths.lua" "${auth[@]}" "$base"
    quiet
    bench_wrk "$ph-feed" "${w[@]}" "${auth[@]}" "$base/api/v1/linkage/immunizations?after=$cur&limit=100"
    quiet
    IDS_FILE=$2 bench_wrk "$ph-register" "${w[@]}" -s "$work/register.lua" "${auth[@]}" "$base/api/v1/immunizations"
    sent=$(awk '/requests in/ {print $1}' "$work/$ph-register.txt")
    (( sent <= $(wc -l <"$2") )) || echo "   warning: $sent registrations for $(wc -l <"$2") persons: some were replays"
    quiet
    PATHS_FILE=$work/logs.txt bench_wrk "$ph-logs" "${w[@]}" -s "$work/paths.lua" "${auth[@]}" "$base"
    quiet
    one "$ph-lookup" "$(sed -n 7p "$work/lookup.txt")"
    one "$ph-kana" "$(sed -n 7p "$work/kana.txt")"
    one "$ph-feed" "/api/v1/linkage/immunizations?after=$cur&limit=100"
    one "$ph-logs" "$(sed -n 7p "$work/logs.txt")"
}

# sizes PHASE: bytes per person, record and log row, and the database size, into SZ[PHASE-*].
declare -A SZ
sizes() {
    local ph=$1 line
    line=$(psql_super <<'SQL'
SELECT (SELECT count(*) FROM records.persons),
       public.bench_bytes('records.persons') + public.bench_bytes('records.residences')
         + public.bench_bytes('records.person_versions'),
       (SELECT count(*) FROM records.immunizations), public.bench_bytes('records.immunizations'),
       (SELECT count(*) FROM audit.access_log), public.bench_bytes('audit.access_log'),
       pg_database_size(current_database())
SQL
)
    IFS='|' read -r "SZ[$ph-count-p]" "SZ[$ph-bytes-p]" "SZ[$ph-count-r]" "SZ[$ph-bytes-r]" "SZ[$ph-count-l]" "SZ[$ph-bytes-l]" "SZ[$ph-db]" <<<"$line"
    printf '   %s persons (%s), %s records (%s), %s log rows (%s), database %s\n' \
        "${SZ[$ph-count-p]}" "$(gib "${SZ[$ph-bytes-p]}")" "${SZ[$ph-count-r]}" "$(gib "${SZ[$ph-bytes-r]}")" \
        "${SZ[$ph-count-l]}" "$(gib "${SZ[$ph-bytes-l]}")" "$(gib "${SZ[$ph-db]}")"
}

# Indexes that are no constraint, of the tables the load fills (the access log's are the
# parent's: made again, they are made on every partition).
tables="'records.persons'::regclass, 'records.residences'::regclass, 'records.immunizations'::regclass, 'audit.access_log'::regclass"
idx_sql="FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid WHERE i.indrelid IN ($tables) AND k.oid IS NULL AND NOT i.indisunique"
# The foreign keys of the tables the load fills (a partitioned table's, not its partitions'
# copies): dropped for the load and made again after it, which checks every row in one join
# per partition instead of one lookup a row (against the partitioned persons, the lookup a row
# is what makes a row-by-row load slow: executor start-up over the partitions).
fk_sql="FROM pg_constraint k WHERE k.contype = 'f' AND k.conparentid = 0 AND k.conrelid IN ('records.residences'::regclass, 'records.person_versions'::regclass, 'records.immunizations'::regclass)"

# plans PHASE: the staff lookups' and the feed's statements as the records service prepares them
# (from services/records/sql), run once with EXPLAIN ANALYZE on a sample resident: each index
# and the partitions it read (of 16; a pruned one is not in the plan or is "never executed"),
# and the time in the database of the second run (the first warms the session's caches). The
# plans are kept in $work/PHASE-plan-*.txt (and the work directory with
# SESSHU_BENCH_KEEP=1).
stmt() { awk -v n="$2" '/^-- name: /{on = ($3 == n); next} on && !/^--/' "$root/services/records/sql/$1"; }
plans() {
    local ph=$1 rno kana birth k q f n args cur txid seq
    IFS='|' read -r _ rno kana birth _ < <(sed -n 7p "$work/sample.txt")
    cur=$(psql_super -c "SELECT txid::text || '|' || seq FROM records.immunizations WHERE muni_code = '$muni' ORDER BY txid DESC, seq DESC OFFSET 100 LIMIT 1")
    IFS='|' read -r txid seq <<<"$cur"
    for q in "lookup|persons.sql|rec_person_list_by_resident_no|'$muni', '$rno', NULL, NULL, NULL, NULL, NULL, 21" \
        "kana|persons.sql|rec_person_list|'$muni', NULL, '$kana', '$birth', NULL, NULL, NULL, 21" \
        "feed|linkage.sql|rec_feed_immunizations|'$muni', '$txid', $seq, 100"; do
        IFS='|' read -r k f n args <<<"$q"
        psql_super >"$work/$ph-plan-$k.txt" <<SQL
PREPARE s AS $(stmt "$f" "$n")
\\o /dev/null
EXECUTE s($args);
\\o
EXPLAIN (ANALYZE, COSTS OFF) EXECUTE s($args);
SQL
        # Each index (or table scan) of the partitioned tables, with the partitions it read.
        printf '   plan %-7s %s: %s; %s\n' "$k" "$n" \
            "$(grep -v 'never executed' "$work/$ph-plan-$k.txt" | grep -oE '(Scan using [^ ]+|Seq Scan) on (persons|immunizations)_p[0-9]+' |
                awk '{i = ($1 == "Seq") ? "seq scan" : $3; gsub(/_p[0-9][0-9]/, "", i); c[i]++}
                     END {for (i in c) printf "%s%s in %d partition%s", (n++ ? ", " : ""), i, c[i], (c[i] > 1 ? "s" : "")}')" \
            "$(grep -E 'Planning Time|Execution Time' "$work/$ph-plan-$k.txt" | tr -s ' ' | paste -sd, -)"
    done
}

# --- (1) small ----------------------------------------------------------------------------------
echo "== (1) small database: the first 5,000 persons with their records and log rows"
load 0 5000
regpersons S "$nreg"
psql_super -c "ANALYZE" >/dev/null
sample
measure small "$work/reg-S.txt"
plans small
sizes small

# --- (2) load -------------------------------------------------------------------------------------
echo "== (2) load to $np persons, $nr records, $nl log rows"
t_all=$(now)
idx=$(psql_super -c "SELECT string_agg(replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON '), '; ') $idx_sql")
drop=$(psql_super -c "SELECT string_agg('DROP INDEX ' || i.indexrelid::regclass::text, '; ') $idx_sql")
fks=$(psql_super -c "SELECT string_agg(format('ALTER TABLE %s ADD CONSTRAINT %I %s', k.conrelid::regclass, k.conname, pg_get_constraintdef(k.oid)), '; ') $fk_sql")
psql_super -c "$drop"
psql_super -c "$(psql_super -c "SELECT string_agg(format('ALTER TABLE %s DROP CONSTRAINT %I', k.conrelid::regclass, k.conname), '; ') $fk_sql")"
chunk=${SESSHU_BENCH_CHUNK:-1000000}
for (( lo = 5000; lo < np; lo += chunk )); do
    load "$lo" $(( lo + chunk < np ? lo + chunk : np ))
done
t0=$(now)
psql_super -c "$idx"
printf '   indexes made again: %s s\n' "$(since "$t0")"
t0=$(now)
psql_super -c "$fks"
printf '   foreign keys made again (every row checked): %s s\n' "$(since "$t0")"
regpersons T "$nreg"
t0=$(now)
psql_super -c "VACUUM ANALYZE" >/dev/null
printf '   VACUUM ANALYZE: %s s\n' "$(since "$t0")"
printf '   load in all: %s s\n' "$(since "$t_all")"
# The log rows are valid chained rows: the last 100,000 verify (and every stream's head).
bad=$(psql_super -c "SELECT coalesce(reason, 'ok') FROM audit.verify_chain(greatest((SELECT max(chain_pos) FROM audit.access_log) - 100000, 1), 200000)")
echo "   verify of the last 100,000 log rows: $bad"
[[ $bad == ok ]] || { echo "bench: the loaded access log does not verify" >&2; exit 1; }

# --- (3) large ------------------------------------------------------------------------------------
echo "== (3) large database"
token=$(node_setup login "$(jq -r .user <<<"$setup")" "$(jq -r .password <<<"$setup")" | jq -r .token)
measure large "$work/reg-T.txt"
plans large
sizes large

# --- (4) the table ------------------------------------------------------------------------------
# A run that completed no request (each took longer than the run) has no percentiles: "-".
p50() { if [[ ${RPS[$1]} == 0.00 ]]; then echo -; else bench_ms "$(awk '$1 == "50%" {print $2}' "$work/$1.txt")"; fi; }
p99() { if [[ ${RPS[$1]} == 0.00 ]]; then echo -; else echo "${P99[$1]}"; fi; }
echo "== small vs large (wrk -t1 -c4 -d${secs}s each; latency in ms)"
printf '%-34s %10s %10s %8s\n' "" small large ratio
row() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN{r = (a > 0 && b != "-") ? sprintf("%.2f", b / a) : "-"; printf "%-34s %10s %10s %8s\n", n, a, b, r}'; }
for q in lookup:"staff lookup by 宛名番号" kana:"staff search kana + birth date" feed:"change feed (100 after a cursor)" \
    register:"registration" logs:"access-log query (person_id)"; do
    k=${q%%:*}
    row "${q#*:} p50" "$(p50 "small-$k")" "$(p50 "large-$k")"
    row "${q#*:} p99" "$(p99 "small-$k")" "$(p99 "large-$k")"
    [[ -z ${ONE[small-$k]:-} ]] || row "${q#*:} alone" "${ONE[small-$k]}" "${ONE[large-$k]}"
done
per() { awk -v b="$1" -v n="$2" 'BEGIN{printf "%.0f", (n > 0) ? b / n : 0}'; }
for k in p:"bytes per person (+residence, version)" r:"bytes per record" l:"bytes per log row"; do
    c=${k%%:*}
    row "${k#*:}" "$(per "${SZ[small-bytes-$c]}" "${SZ[small-count-$c]}")" "$(per "${SZ[large-bytes-$c]}" "${SZ[large-count-$c]}")"
done
row "database size (MiB)" "$(( SZ[small-db] >> 20 ))" "$(( SZ[large-db] >> 20 ))"
