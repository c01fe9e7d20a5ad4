#!/usr/bin/env bash
# scripts/test.sh - build, check and test everything against a throwaway stack; CI runs this.
#
# Installs missing packages (scripts/install-deps.sh), builds build/ (RelWithDebInfo) and
# build-asan/ (ASan+UBSan), runs the static checks, the unit tests, then starts a stack of its
# own in a mktemp directory on its own ports (PostgreSQL 15433, SMTP 12525, services
# 18101-18109 from build-asan/, gateway 18080), runs the in-process integration tests and the
# black-box API tests (tests/api, node), stops everything (also on failure or Ctrl-C), checks
# the services' logs for sanitizer reports, and ends with one line: "N passed, N failed".
# Exits non-zero if anything failed or a layer could not run.
#   SESSHU_TEST_KEEP=1    keep the throwaway directory (logs, database) for a look afterwards
#   SESSHU_TEST_API_FILES="a.test.mjs b.test.mjs"   run only these API test files (tests/api)
#   SESSHU_TEST_PORT_OFFSET=N   move every port by N, so two test stacks can run side by side
#   SESSHU_TEST_TMPDIR=DIR  where the throwaway directory is made (default /tmp; the postgres
#                           user must be able to reach it)
#   SESSHU_BUILD_DIR, SESSHU_ASAN_BUILD_DIR   other build directories than build/, build-asan/
#   SESSHU_TEST_CONTAINERS=0|1|full  skip / force the containers layer (scripts/test-containers.sh;
#                           skipped by default with SESSHU_TEST_API_FILES, and without an engine;
#                           full: every API file against the containers, not a dozen)
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2317 # the run_* helpers are called through check()
set -uo pipefail

SS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
. "$SS_REPO/scripts/lib.sh"
ss_profile test
cd "$SS_REPO" || exit 1

BUILD=${SESSHU_BUILD_DIR:-$SS_REPO/build}
BUILD_ASAN=$SS_BIN_DIR
TOTAL_PASSED=0
TOTAL_FAILED=0
STACK_UP=0
STARTED_SERVICES=()
# The throwaway directory (mktemp's template): under SESSHU_TEST_TMPDIR if given, made if missing.
TMP_PARENT=${SESSHU_TEST_TMPDIR:-/tmp}
if ! mkdir -p "$TMP_PARENT" || ! chmod a+rx "$TMP_PARENT"; then
    echo "test.sh: cannot use $TMP_PARENT for the throwaway directory" >&2
    exit 1
fi
TMP=$(mktemp -d "$TMP_PARENT/sesshu-test.XXXXXX") || exit 1
ss_init "$TMP"
OUT=$TMP/out # captured output of each step
mkdir -p "$OUT"

# --- bookkeeping -----------------------------------------------------------------------------

# tally LAYER PASSED FAILED [NOTE]: add to the layer's and the overall counts.
declare -A LAYER_PASSED=() LAYER_FAILED=() LAYER_NOTES=()
LAYERS=()
tally() {
    local layer=$1
    if [[ -z ${LAYER_PASSED[$layer]+x} ]]; then
        LAYERS+=("$layer")
        LAYER_PASSED[$layer]=0
        LAYER_FAILED[$layer]=0
        LAYER_NOTES[$layer]=
    fi
    LAYER_PASSED[$layer]=$((LAYER_PASSED[$layer] + $2))
    LAYER_FAILED[$layer]=$((LAYER_FAILED[$layer] + $3))
    TOTAL_PASSED=$((TOTAL_PASSED + $2))
    TOTAL_FAILED=$((TOTAL_FAILED + $3))
    if [[ -n ${4:-} && ( $3 -ne 0 || $2 -eq 0 ) ]]; then
        LAYER_NOTES[$layer]+="${LAYER_NOTES[$layer]:+; }$4"
    fi
}

section() { printf '\n======== %s ========\n' "$*"; }

# check LAYER NAME CMD...: one test; its output is shown only when it fails.
check() {
    local layer=$1 name=$2 log
    shift 2
    log=$OUT/check-$(printf '%s' "$name" | tr -c 'A-Za-z0-9' '_').log
    if "$@" >"$log" 2>&1; then
        printf 'ok      %s\n' "$name"
        tally "$layer" 1 0
    else
        printf 'FAILED  %s\n' "$name"
        tail -n 60 "$log"
        tally "$layer" 0 1 "$name"
    fi
}

# Counts from ctest's "NN% tests passed, F tests failed out of T" in FILE; a run that printed
# no such line (or none found) and failed counts as one failure.
tally_ctest() {
    local layer=$1 file=$2 rc=$3 line total failed
    line=$(grep -Eo '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$file" | tail -n 1)
    if [[ -n $line ]]; then
        failed=$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$line")
        total=$(sed -E 's/.* out of ([0-9]+)$/\1/' <<<"$line")
        if [[ $rc -ne 0 && $failed -eq 0 ]]; then
            tally "$layer" "$total" 1 "ctest exited $rc"
        else
            tally "$layer" $((total - failed)) "$failed"
        fi
    elif grep -q 'No tests were found' "$file" && [[ $rc -eq 0 ]]; then
        tally "$layer" 0 0 "no tests found"
    else
        tally "$layer" 0 1 "ctest did not run (exit $rc)"
    fi
}

stop_stack() {
    [[ $STACK_UP -eq 1 ]] || return 0
    ss_stop_all >/dev/null 2>&1
    STACK_UP=0
}

PROXY_PID=
cleanup() {
    [[ -n $PROXY_PID ]] && kill "$PROXY_PID" 2>/dev/null
    stop_stack
    if [[ ${SESSHU_TEST_KEEP:-0} == 1 ]]; then
        printf 'kept %s\n' "$TMP" >&2
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

finish() {
    trap - EXIT
    cleanup
    section summary
    local layer
    for layer in "${LAYERS[@]}"; do
        printf '%-12s %d passed, %d failed%s\n' "$layer:" "${LAYER_PASSED[$layer]}" \
            "${LAYER_FAILED[$layer]}" "${LAYER_NOTES[$layer]:+  (${LAYER_NOTES[$layer]})}"
    done
    printf '%d passed, %d failed\n' "$TOTAL_PASSED" "$TOTAL_FAILED"
    [[ $TOTAL_FAILED -eq 0 ]]
    exit
}

# --- 1. packages -----------------------------------------------------------------------------
section packages
if bash scripts/install-deps.sh; then
    tally setup 1 0
else
    tally setup 0 1 "scripts/install-deps.sh failed"
    finish
fi

# --- 2. builds -------------------------------------------------------------------------------
section build
# build_tree DIR CMAKE_ARGS...: configure (once) and build; the output tail on failure.
build_tree() {
    local dir=$1
    shift
    { [[ -f $dir/CMakeCache.txt ]] || cmake -S . -B "$dir" "$@"; } &&
        cmake --build "$dir" -j2
}
BUILD_OK=0
ASAN_OK=0
check build "normal build ($BUILD)" build_tree "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo && BUILD_OK=1
check build "ASan+UBSan build ($BUILD_ASAN)" build_tree "$BUILD_ASAN" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSANITIZE=ON &&
    ASAN_OK=1

# --- 3. static checks ------------------------------------------------------------------------
section "static checks"
c_sources() { find libs services tests -path '*/node_modules' -prune -o -type f \( -name '*.c' -o -name '*.h' \) -print | sort; }
run_cppcheck() {
    cppcheck -q --error-exitcode=1 --enable=warning,portability --inline-suppr --std=c11 \
        -D_GNU_SOURCE -I libs/common/include -j2 libs services
}
check static "cppcheck" run_cppcheck
if [[ -f .clang-format ]]; then
    run_clang_format() { c_sources | xargs -r clang-format --dry-run -Werror; }
    check static "clang-format" run_clang_format
fi
# .clang-tidy: function size and nesting, bugprone-* (its header says which are off and why),
# over the compile commands of the normal build (its generated headers included).
if [[ -f .clang-tidy && -f $BUILD/compile_commands.json ]] && command -v clang-tidy >/dev/null 2>&1; then
    run_clang_tidy() {
        find libs services -path '*/node_modules' -prune -o -type f -name '*.c' -print | sort |
            xargs -r -P2 -n8 clang-tidy -p "$BUILD" --quiet 2>&1 | grep -v ' warnings\? generated\.$'
        return "${PIPESTATUS[2]}"
    }
    check static "clang-tidy (.clang-tidy)" run_clang_tidy
fi
if command -v shellcheck >/dev/null 2>&1; then
    run_shellcheck() {
        local files=()
        mapfile -t files < <(find scripts deploy .ci -type f \( -name '*.sh' -o -name run \) | sort)
        shellcheck -x "${files[@]}"
    }
    check static "shellcheck" run_shellcheck
fi
compose_check() {
    if docker compose version >/dev/null 2>&1; then
        docker compose -f docker-compose.yml config -q || return 1
    elif command -v docker-compose >/dev/null 2>&1; then
        docker-compose -f docker-compose.yml config -q || return 1
    fi
    /usr/bin/python3 scripts/check-compose.py .
}
check static "docker-compose.yml and Dockerfile" compose_check
check static "sql files: every statement used, none left in C strings" /usr/bin/python3 scripts/check-sql.py .
check static "services/registry.tsv: gateway, tables and code agree" /usr/bin/python3 scripts/check-registry.py .
gateway_check() {
    local d
    d=$(mktemp -d "$TMP/gw.XXXXXX")
    SESSHU_GW_LISTEN=127.0.0.1:1 deploy/gateway/render.sh "$d/nginx.conf"
}
check static "gateway configuration renders and passes nginx -t" gateway_check

# --- 4. unit tests ---------------------------------------------------------------------------
section "unit tests"
if [[ $BUILD_OK -eq 1 ]]; then
    ctest --test-dir "$BUILD" -LE "integration|api" -j2 --output-on-failure --timeout 300 2>&1 |
        tee "$OUT/unit.log"
    tally_ctest unit "$OUT/unit.log" "${PIPESTATUS[0]}"
else
    tally unit 0 1 "not run: the build failed"
fi

# --- 5. the throwaway stack ------------------------------------------------------------------
section "throwaway stack in $TMP"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
# Under faketime (libfaketime in LD_PRELOAD, README "Tests on any date") the sanitizer runtime
# is not the first library loaded; that is harmless here, so ASan is told not to refuse it.
[[ ${LD_PRELOAD:-} == *faketime* ]] && ASAN_OPTIONS+=:verify_asan_link_order=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
[[ -f scripts/lsan.supp ]] && export LSAN_OPTIONS=suppressions=$SS_REPO/scripts/lsan.supp:print_suppressions=0
# Tight enough that one test's burst of a few hundred parallel requests meets 429, loose
# enough that the suite's ordinary logins and resets never do.
export SESSHU_GW_AUTH_RATE=${SESSHU_GW_AUTH_RATE:-20r/s} SESSHU_GW_AUTH_BURST=${SESSHU_GW_AUTH_BURST:-40}
export SESSHU_GW_TOKEN_RATE=${SESSHU_GW_TOKEN_RATE:-20r/s} SESSHU_GW_TOKEN_BURST=${SESSHU_GW_TOKEN_BURST:-40}
export SESSHU_GW_API_RATE=${SESSHU_GW_API_RATE:-20000r/s} SESSHU_GW_API_BURST=${SESSHU_GW_API_BURST:-40000}
# A browser front end of another origin (gateway.test.mjs checks its preflight and headers).
export SESSHU_GW_CORS_ORIGINS=${SESSHU_GW_CORS_ORIGINS:-https://portal.sesshu.test}

# No subshells here: what is started must stay a child of this shell, which reaps it.
start_stack() {
    local p svc
    for p in "$SS_PG_PORT" "$SS_SMTP_PORT" "$SS_GW_PORT" $(seq $((SS_PORT_BASE + 1)) $((SS_PORT_BASE + 9))); do
        ss_port_busy "$p" && { ss_err "port $p is already in use (another test stack?)"; return 1; }
    done
    STACK_UP=1
    ss_prepare_var || return 1
    ss_make_secrets || return 1
    ss_write_env "http://127.0.0.1:$SS_GW_PORT" || return 1
    ss_pg_init || return 1
    ss_pg_start || return 1
    ss_pg_roles || return 1
    ss_smtp_start || return 1
    # shellcheck source=/dev/null
    . "$SS_ENV_FILE"
    for svc in $(ss_services); do STARTED_SERVICES+=("$svc"); done
    ss_services_start 60 || return 1
    ss_gw_start || return 1
}
STACK_OK=0
if [[ $ASAN_OK -eq 1 ]]; then
    if start_stack; then
        STACK_OK=1
        tally stack 1 0 "started"
    else
        tally stack 0 1 "could not start"
    fi
else
    tally stack 0 1 "not started: the ASan build failed"
fi

# --- 6. in-process integration tests ---------------------------------------------------------
section "integration tests (ASan build, real database)"
if [[ $STACK_OK -eq 1 ]]; then
    ctest --test-dir "$BUILD_ASAN" -L integration -j2 --output-on-failure --timeout 600 2>&1 |
        tee "$OUT/integration.log"
    tally_ctest integration "$OUT/integration.log" "${PIPESTATUS[0]}"
else
    tally integration 0 1 "not run: no stack"
fi

# --- 7. black-box API tests through the gateway -----------------------------------------------
section "API tests (tests/api through the gateway)"
api_tests=$(find tests/api -path '*/node_modules' -prune -o -type f \( -name '*.test.mjs' -o -name '*.test.js' -o -name '*.test.cjs' \) -print 2>/dev/null | wc -l)
NPM_OK=0
if [[ -f tests/api/package.json ]]; then
    npm_install() {
        if [[ -f tests/api/package-lock.json ]] && npm ci --prefix tests/api --no-audit --no-fund; then
            return 0
        fi
        npm install --prefix tests/api --no-audit --no-fund
    }
    check setup "npm ci (tests/api)" npm_install && NPM_OK=1
fi
if [[ $NPM_OK -eq 1 && -x tests/api/node_modules/.bin/redocly ]] && compgen -G 'proto-schemas/*.yaml' >/dev/null; then
    run_redocly() {
        if grep -q '"lint:openapi"' tests/api/package.json; then
            REDOCLY_TELEMETRY=off npm --prefix tests/api run --silent lint:openapi
        else
            REDOCLY_TELEMETRY=off npx --prefix tests/api redocly lint proto-schemas/*.yaml
        fi
    }
    check static "redocly lint proto-schemas" run_redocly
fi
# deploy/k8s against the Kubernetes schemas (kubernetes-models, offline) and what production needs.
if [[ $NPM_OK -eq 1 ]]; then
    check static "Kubernetes manifests (schemas; probes, resources, PDB, HPA, NetworkPolicy)" \
        node tests/api/tools/check-k8s.mjs deploy/k8s
fi
if [[ $api_tests -eq 0 ]]; then
    tally api 0 0 "no API test files yet"
elif [[ $STACK_OK -ne 1 ]]; then
    tally api 0 1 "not run: no stack"
elif [[ $NPM_OK -ne 1 ]]; then
    tally api 0 1 "not run: npm could not install tests/api"
else
    export SESSHU_TEST_BASE_URL=http://127.0.0.1:$SS_GW_PORT
    SESSHU_TEST_ADMIN_PASSWORD=$(cat "$SS_SECRETS/admin-password")
    export SESSHU_TEST_ADMIN_PASSWORD
    export SESSHU_TEST_MAIL_DIR=$SS_MAIL
    export SESSHU_TEST_ENV_FILE=$SS_ENV_FILE
    SESSHU_TEST_PSQL="$(ss_is_root && echo "runuser -u postgres -- ")$SS_PGBIN/psql -h $SS_PGSOCK -p $SS_PG_PORT -U $(ss_pg_user) -d $SS_DB_NAME -v ON_ERROR_STOP=1 -qAt"
    export SESSHU_TEST_PSQL
    export SESSHU_TEST_ACCOUNT_BIN=$BUILD_ASAN/services/account/sesshu-account
    export SESSHU_TEST_AUDIT_BIN=$BUILD_ASAN/services/audit/sesshu-audit
    SESSHU_TEST_ACCOUNT_URL=http://127.0.0.1:$(ss_svc_port account)
    SESSHU_TEST_AUDIT_URL=http://127.0.0.1:$(ss_svc_port audit)
    export SESSHU_TEST_ACCOUNT_URL SESSHU_TEST_AUDIT_URL
    # SESSHU_TEST_API_FILES="master.test.mjs ..." runs only those files (a developer's loop).
    # shellcheck disable=SC2086 # a list of file names
    (cd tests/api && node --test --test-concurrency=1 --test-reporter=tap ${SESSHU_TEST_API_FILES:-}) 2>&1 | tee "$OUT/api.log"
    api_rc=${PIPESTATUS[0]}
    pass=$(grep -E '^# pass [0-9]+$' "$OUT/api.log" | tail -n 1 | awk '{print $3}')
    fail=$(grep -E '^# fail [0-9]+$' "$OUT/api.log" | tail -n 1 | awk '{print $3}')
    cancelled=$(grep -E '^# cancelled [0-9]+$' "$OUT/api.log" | tail -n 1 | awk '{print $3}')
    if [[ -z $pass || -z $fail ]]; then
        tally api 0 1 "node --test printed no summary (exit $api_rc)"
    else
        fail=$((fail + ${cancelled:-0}))
        if [[ $api_rc -ne 0 && $fail -eq 0 ]]; then
            tally api "$pass" 1 "node --test exited $api_rc"
        else
            tally api "$pass" "$fail"
        fi
    fi
fi

# --- 7b. part of the suite again, through an OpenAPI response validator ----------------------
# tests/api/tools/contract-proxy.mjs sits in front of the gateway and checks every answer that
# passes against proto-schemas/ (status documented, media type, body schema; problem+json where
# no operation matches), including the answers the tests themselves do not check. Full runs
# only (or SESSHU_TEST_PROXY_FILES); files that need the client's own address or raw sockets
# (gateway, account-login), and those whose answers name the gateway's own address
# (certificate: the card's issuer; token: the OAuth issuer; fhir: fullUrl), stay direct.
# payment-claims makes the out-of-area institutions' federation in a prefecture of its own each
# run, so a second run on the same database finds no batches of the first waiting for review.
PROXY_FILES=${SESSHU_TEST_PROXY_FILES:-}
if [[ -z $PROXY_FILES && -z ${SESSHU_TEST_API_FILES:-} ]]; then
    PROXY_FILES="records.test.mjs records-query.test.mjs master-read.test.mjs master-write.test.mjs
        questionnaire-answers.test.mjs mch.test.mjs notice.test.mjs audit.test.mjs
        account-users.test.mjs"
    for f in payment-accounts.test.mjs payment-netting.test.mjs payment-claims.test.mjs stats.test.mjs; do
        [[ -f tests/api/$f ]] && PROXY_FILES+=" $f"
    done
fi
if [[ -n $PROXY_FILES && $STACK_OK -eq 1 && $NPM_OK -eq 1 ]]; then
    section "API answers through an OpenAPI response validator"
    proxy_port=$((SS_GW_PORT + 10))
    violations=$OUT/contract-violations.ndjson
    node tests/api/tools/contract-proxy.mjs "$proxy_port" "$SESSHU_TEST_BASE_URL" "$violations" \
        >"$OUT/contract-proxy.log" 2>&1 &
    PROXY_PID=$!
    for _ in $(seq 1 50); do ss_port_busy "$proxy_port" && break; sleep 0.1; done
    # shellcheck disable=SC2086 # a list of file names
    (cd tests/api && SESSHU_TEST_BASE_URL=http://127.0.0.1:$proxy_port \
        node --test --test-concurrency=1 --test-reporter=tap $PROXY_FILES) >"$OUT/proxy-api.log" 2>&1
    pass=$(grep -E '^# pass [0-9]+$' "$OUT/proxy-api.log" | tail -n 1 | awk '{print $3}')
    fail=$(grep -E '^# fail [0-9]+$' "$OUT/proxy-api.log" | tail -n 1 | awk '{print $3}')
    kill "$PROXY_PID" 2>/dev/null
    wait "$PROXY_PID" 2>/dev/null
    PROXY_PID=
    tail -n 1 "$OUT/contract-proxy.log"
    if [[ -z $pass || -z $fail ]]; then
        tally contract 0 1 "the suite through the validator printed no summary"
    else
        [[ $fail -ne 0 ]] && grep -E '^not ok' "$OUT/proxy-api.log" | head -n 20
        tally contract "$pass" "$fail"
    fi
    no_violations() {
        [[ -f $violations && ! -s $violations ]] && return 0
        head -c 6000 "$violations"
        return 1
    }
    check contract "every answer through the gateway matched its OpenAPI contract" no_violations
fi

# --- 7c. the access-log fault test (kills records, restarts PostgreSQL: last against the stack) --
section "fault test (access log under kill -9 and a PostgreSQL crash)"
# shellcheck source=../tests/fault/access_log_fault.sh
. "$SS_REPO/tests/fault/access_log_fault.sh"
if [[ $STACK_OK -ne 1 ]]; then
    tally fault 0 1 "not run: no stack"
elif [[ $NPM_OK -ne 1 ]]; then
    tally fault 0 1 "not run: npm could not install tests/api"
elif [[ -n ${SESSHU_TEST_API_FILES:-} && -z ${SESSHU_TEST_FAULT:-} ]]; then
    tally fault 0 0 "skipped with SESSHU_TEST_API_FILES (SESSHU_TEST_FAULT=1 runs it)"
else
    check fault "access log: every change has its row after kill -9 and a PostgreSQL crash" run_access_log_fault
fi

# --- 8. stop, then read the services' logs for sanitizer reports ------------------------------
section "stopping the stack; sanitizer reports"
if [[ $STACK_UP -eq 1 ]]; then
    ss_stop_all
    STACK_UP=0
fi
# CI shows only this output and the directory goes away: when something failed against the
# stack, the tails of its logs.
if [[ $((${LAYER_FAILED[stack]:-0} + ${LAYER_FAILED[integration]:-0} + ${LAYER_FAILED[api]:-0})) -ne 0 ]]; then
    for log in "$SS_LOGDIR"/*.log; do
        [[ -f $log ]] && ss_log_tail "$log" 30 2>&1
    done
fi
for svc in "${STARTED_SERVICES[@]}"; do
    log=$SS_LOGDIR/$svc.log
    if [[ ! -f $log ]]; then
        tally sanitizers 0 1 "$svc: no log"
    elif grep -qE 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$log"; then
        grep -nE -A30 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$log" | head -n 120
        tally sanitizers 0 1 "$svc: sanitizer report in its log"
    else
        tally sanitizers 1 0 "$svc: clean"
    fi
done

# --- 9. the containers: docker-compose.yml's stack built and run, the API tests against it -------
# scripts/test-containers.sh (images from a debootstrap base, host networking on loopback, ports
# +1000 or SESSHU_CT_PORT_OFFSET): after the local stack is down, bounded by SESSHU_CT_TIMEOUT
# seconds (default 1800: a cold machine debootstraps and builds every image first).
section "containers (docker-compose.yml's stack, tests/api against it)"
CT=${SESSHU_TEST_CONTAINERS:-}
CT_DEFAULT_FILES="health.test.mjs account-login.test.mjs token.test.mjs records.test.mjs
    certificate.test.mjs audit-proofs.test.mjs master-read.test.mjs payment-claims.test.mjs
    notice.test.mjs stats.test.mjs gateway.test.mjs fhir.test.mjs"
if [[ $CT == 0 ]]; then
    tally containers 0 0 "skipped: SESSHU_TEST_CONTAINERS=0"
elif [[ -n ${SESSHU_TEST_API_FILES:-} && $CT != 1 && $CT != full ]]; then
    tally containers 0 0 "skipped with SESSHU_TEST_API_FILES (SESSHU_TEST_CONTAINERS=1 runs it)"
elif [[ $NPM_OK -ne 1 ]]; then
    tally containers 0 1 "not run: npm could not install tests/api"
else
    # By default a dozen files that reach every service and the gateway (the whole tests/api
    # set in containers takes ~12 min more here: SESSHU_TEST_CONTAINERS=full, or
    # scripts/test-containers.sh by itself, runs it); SESSHU_TEST_API_FILES if given.
    ct_files=${SESSHU_TEST_API_FILES:-$CT_DEFAULT_FILES}
    [[ $CT == full && -z ${SESSHU_TEST_API_FILES:-} ]] && ct_files=
    SESSHU_CT_API_FILES=${SESSHU_CT_API_FILES:-$ct_files} \
        timeout -k 150 "${SESSHU_CT_TIMEOUT:-1800}" bash scripts/test-containers.sh 2>&1 | tee "$OUT/containers.log"
    ct_rc=${PIPESTATUS[0]}
    ct_line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$OUT/containers.log" | tail -n 1)
    if [[ $ct_rc -eq 77 ]]; then
        tally containers 0 0 "skipped: $(grep -m1 '^SKIP: ' "$OUT/containers.log" | cut -c7-)"
    elif [[ $ct_rc -eq 124 || $ct_rc -eq 137 ]]; then
        tally containers 0 1 "timed out after ${SESSHU_CT_TIMEOUT:-1800} s"
    elif [[ -z $ct_line ]]; then
        tally containers 0 1 "scripts/test-containers.sh printed no summary (exit $ct_rc)"
    else
        ct_pass=${ct_line%% passed*}
        ct_fail=${ct_line#*passed, }
        ct_fail=${ct_fail%% failed}
        [[ $ct_rc -ne 0 && $ct_fail -eq 0 ]] && ct_fail=1
        tally containers "$ct_pass" "$ct_fail" "scripts/test-containers.sh exit $ct_rc"
    fi
fi

# --- 10. the failover test: PostgreSQL loses its primary under write load (issue 15 §2) ------------
# A cluster of its own (scripts/ha/cluster.sh, ports SESSHU_HA_PORT_BASE+1..3, default 15401-15403)
# and the services on this stack's ports, which are free again now.
section "failover test (pg_auto_failover: the primary SIGKILLed under write load)"
if [[ ${SESSHU_TEST_FAILOVER:-} == 0 ]]; then
    tally failover 0 0 "skipped with SESSHU_TEST_FAILOVER=0"
elif [[ -n ${SESSHU_TEST_API_FILES:-} && -z ${SESSHU_TEST_FAILOVER:-} ]]; then
    tally failover 0 0 "skipped with SESSHU_TEST_API_FILES (SESSHU_TEST_FAILOVER=1 runs it)"
elif ! command -v pg_autoctl >/dev/null 2>&1; then
    tally failover 0 0 "skipped: postgresql-15-auto-failover is not installed (install-deps.sh could not install it)"
elif [[ $ASAN_OK -ne 1 || $NPM_OK -ne 1 ]]; then
    tally failover 0 1 "not run: no ASan build or no npm install"
else
    run_failover_test() {
        SESSHU_TEST_TMPDIR=$TMP timeout 900 bash tests/failover/failover.sh 2>&1 | tee "$OUT/failover.log"
        return "${PIPESTATUS[0]}"
    }
    check failover "no acknowledged write or access-log row lost when the primary is SIGKILLed; it rejoins" \
        run_failover_test
    grep -E '^(killed|new primary|writes failing|first 201|answers after|attempts:|standby|node[12] rejoined)' \
        "$OUT/failover.log" 2>/dev/null
fi

finish
