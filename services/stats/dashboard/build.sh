#!/usr/bin/env bash
# services/stats/dashboard/build.sh OUTDIR - bundles the public statistics page (Chart.js from
# npm, by esbuild) into OUTDIR (index.html, style.css, app.js), which the gateway serves at
# /stats/ (SESSHU_GW_STATS_DIR). Nothing is fetched at run time. Needs node and npm.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:?usage: build.sh OUTDIR}
cd "$here"
if [[ ! -x node_modules/.bin/esbuild || package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund --loglevel=error >&2
fi
mkdir -p "$out"
node_modules/.bin/esbuild src/main.js --bundle --minify --format=iife --target=es2020 \
    --log-level=warning --outfile="$out/app.js.tmp"
mv -f "$out/app.js.tmp" "$out/app.js"
cp src/index.html src/style.css "$out/"
