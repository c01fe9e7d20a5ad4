#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# scripts/down.sh - stop what scripts/up.sh started, by the PIDs it recorded in var/run/:
# the gateway, the services (audit last), the SMTP sink, PostgreSQL. Data stays in var/;
# delete var/ (and, if it is a symlink, where it points) to start from scratch.
set -euo pipefail

SS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
. "$SS_REPO/scripts/lib.sh"
ss_profile up

if [[ ! -d $SS_REPO/var/run ]]; then
    ss_log "nothing to stop (no var/run)"
    exit 0
fi
ss_init "$(readlink -f "$SS_REPO/var")"
ss_log "stopping the gateway, the services, the SMTP sink and PostgreSQL"
ss_stop_all
ss_log "stopped"
