#!/usr/bin/env bash
# Moderation console benchmark: the first page of the held queue, text search, the next page, one
# comment's view and the statistics of /api/v1/admin/… on 1,000,000 comments (100,000 held),
# answered by `margin serve` on SQLite and on PostgreSQL, against nginx serving the queue's first
# page as a static file. Not part of the test command. bench/console/run.py's docstring tells
# every request and setting; bench/console/gen.py's tells the data.
#
#   bench/console.sh
#   REQUESTS=30 BENCH_STORES=sqlite BENCH_SKIP_BUILD=1 bench/console.sh     # SQLite only, no build
#
# The first run generates the database (about 5 minutes on 2 cores) into the git-ignored
# tmp/bench-console/, reused while the generator, its parameters and the schema are unchanged.
# Installs what is missing: nginx (Debian), python3-numpy (the generator) and PostgreSQL (for
# scripts/pg-cluster). Builds `margin` in release mode unless BENCH_SKIP_BUILD=1. Writes
# results.md and results.json to bench/results/console-YYYYMMDD-HHMM/, the raw outputs (answers,
# timings, query plans, server logs) to tmp/bench-raw/console-YYYYMMDD-HHMM/, and prints the table.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
python=${PYTHON:-python3}

log() { echo "bench/console.sh: $*" >&2; }
die() { log "$*"; exit 1; }

missing=()
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
"$python" -c 'import numpy' 2>/dev/null || missing+=(python3-numpy)
if [[ ${BENCH_STORES:-sqlite,postgres} == *postgres* ]]; then
    command -v psql >/dev/null 2>&1 || missing+=(postgresql postgresql-client)
fi
if ((${#missing[@]} > 0)); then
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    log "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null || die "apt-get install failed"
fi

if [[ -z "${BENCH_SKIP_BUILD:-}" || "${BENCH_SKIP_BUILD}" == 0 ]]; then
    log "swift build -c release --product margin"
    swift build -c release --product margin >&2
fi

exec "$python" "$repo/bench/console/run.py"
