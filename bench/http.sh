#!/usr/bin/env bash
# HTTP benchmark of Margin against Isso 0.14.0 and nginx (static copy): throughput, latency,
# errors and memory under wrk. Not part of the test command; takes roughly 45 minutes with the
# defaults (RUNS=3, DURATION=20). bench/http/run.py's docstring tells every scenario and setting.
#
#   bench/http.sh
#   RUNS=1 DURATION=3 WARMUP=1 BENCH_SKIP_BUILD=1 bench/http.sh      # quick smoke run
#   BENCH_BIG=1 bench/http.sh                                          # + 1M-comment database
#   BENCH_ONLY=margin,nginx bench/http.sh                              # skip Isso
#
# Installs what is missing: wrk and nginx (Debian), python3-dev and gcc (misaka, an Isso
# dependency, is compiled), and a throw-away virtualenv tmp/bench-venv (git-ignored) with
# isso==0.14.0, gunicorn and matplotlib from PyPI. Builds `margin` and bench/floor's two
# hello-world servers (the idle-RSS floor of the stack) in release mode unless BENCH_SKIP_BUILD=1. Writes results.md, results.json and chart.png to bench/results/http-YYYYMMDD-HHMM/, the raw outputs to the git-ignored tmp/bench-raw/, and prints the table.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
venv=${BENCH_VENV:-$repo/tmp/bench-venv}
isso_version=${ISSO_VERSION:-0.14.0}
python=${PYTHON:-python3}
export BENCH_VENV=$venv

log() { echo "bench/http.sh: $*" >&2; }
die() { log "$*"; exit 1; }

apt_updated=""
apt_install() {
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    if [[ -z "$apt_updated" ]]; then
        $sudo apt-get update -qq || die "apt-get update failed"
        apt_updated=1
    fi
    log "installing Debian packages: $*"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
}

# --- wrk and nginx (the Debian package's own service is not started in containers; this
# benchmark starts its own nginx on a free port with a generated configuration)
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
# misaka (Isso) is compiled from source: a C compiler and Python's headers, as scripts/isso-fixture
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
"$python" -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
"$python" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    2>/dev/null || missing+=(python3-dev)
((${#missing[@]} == 0)) || apt_install "${missing[@]}"

# --- the virtualenv: Isso + gunicorn (the servers under test) and matplotlib (the chart)
venv_ok() {
    [[ -x "$venv/bin/python" && -x "$venv/bin/gunicorn" ]] || return 1
    "$venv/bin/python" - "$isso_version" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
import gunicorn, isso, isso.db, misaka, matplotlib  # noqa: F401
sys.exit(version("isso") != sys.argv[1])
EOF
}
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock -w 900 9 || die "timed out waiting for another run to build $venv"
if ! venv_ok; then
    log "building $venv (isso==$isso_version, gunicorn, matplotlib)"
    rm -rf "$venv"
    "$python" -m venv "$venv" || die "could not create a virtualenv with $python"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --timeout 60 \
        "isso==$isso_version" gunicorn matplotlib >&2 || { rm -rf "$venv"; die "pip install failed (is PyPI reachable?)"; }
    venv_ok || { rm -rf "$venv"; die "isso==$isso_version installed but does not import"; }
fi
exec 9>&-

# --- Margin, release build
if [[ -z "${BENCH_SKIP_BUILD:-}" || "${BENCH_SKIP_BUILD}" == 0 ]]; then
    log "swift build -c release --product margin"
    swift build -c release --product margin >&2
    # The stack's idle-RSS floor (bench/floor): a package of its own, so Margin's build is untouched.
    log "swift build -c release --package-path bench/floor"
    swift build -c release --package-path bench/floor >&2
fi

exec "$venv/bin/python" "$repo/bench/http/run.py"
