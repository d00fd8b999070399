#!/usr/bin/env bash
# Import and export speed and memory: generates a synthetic Disqus export (default 1,000,000
# posts over 50,000 threads), imports it into a fresh database with the release build, exports
# it (Margin JSONL), and reports wall time and peak RSS of each step (GNU time). The reference
# measured in the same run is `cat FILE > /dev/null` plus the XML parse alone is not separable,
# so the ratios printed are against reading the file (the floor for any importer).
#
#   bench/import-export.sh [POSTS] [THREADS]      (RUNS=3: imports and exports this many times, reports medians)
#
# BENCH_POSTGRES=1 adds the same import into a database in service, one that holds comments
# already (a small real export imported first): into a SQLite file, and into PostgreSQL (a
# private cluster, scripts/pg-cluster), where it runs on a SQLite copy and is merged back.
set -euo pipefail
cd "$(dirname "$0")/.."
posts=${1:-1000000}
threads=${2:-50000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
scripts/install-deps
swift build -c release --product margin >/dev/null
margin=.build/release/margin
python3 bench/gen-disqus.py "$posts" "$threads" > "$work/export.xml"
size=$(du -m "$work/export.xml" | cut -f1)
measure() { /usr/bin/time -f "%e %M" -o "$work/time" "$@" > /dev/null; read -r seconds kb < "$work/time"; echo "$seconds $((kb / 1024))"; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
# The generator's 592 MB would otherwise still be flushing to disk during the first import.
sync
runs=${RUNS:-3}
read -r cat_s cat_mb < <(measure cat "$work/export.xml")
import_times=(); import_peaks=(); export_times=(); export_peaks=()
for run in $(seq "$runs"); do
    rm -f "$work"/m.sqlite* "$work/out.jsonl"
    read -r import_s import_mb < <(measure "$margin" import disqus "$work/export.xml" --db "$work/m.sqlite" --json)
    read -r export_s export_mb < <(measure "$margin" export --db "$work/m.sqlite" -o "$work/out.jsonl")
    echo "run $run: import ${import_s} s (${import_mb} MB), export ${export_s} s (${export_mb} MB)" >&2
    import_times+=("$import_s"); import_peaks+=("$import_mb"); export_times+=("$export_s"); export_peaks+=("$export_mb")
done
comments=$(sqlite3 "$work/m.sqlite" "select count(*) from comments")
max() { printf '%s\n' "$@" | sort -g | tail -1; }
echo "Median of $runs runs (every run: import ${import_times[*]} s; export ${export_times[*]} s); peak RSS is the highest of the runs."
echo
echo "| step | seconds | peak RSS (MB) |"
echo "|---|---|---|"
echo "| read the ${size} MB file (cat, reference) | $cat_s | $cat_mb |"
echo "| import $posts posts / $threads threads ($comments comments stored) | $(median "${import_times[@]}") | $(max "${import_peaks[@]}") |"
echo "| export Margin JSONL ($(du -m "$work/out.jsonl" | cut -f1) MB) | $(median "${export_times[@]}") | $(max "${export_peaks[@]}") |"

if [[ ${BENCH_POSTGRES:-0} == 1 ]]; then
    seed=../shared/data/disqus/isso-disqus.xml
    # Its own folder: the server may run as another user, who cannot enter $work.
    pg_dir=$(mktemp -d)
    trap 'scripts/pg-cluster stop "$pg_dir"; rm -rf "$work" "$pg_dir"' EXIT
    url=$(scripts/pg-cluster start "$pg_dir")
    sqlite_times=(); postgres_times=(); postgres_peaks=()
    for run in $(seq "$runs"); do
        rm -f "$work"/m.sqlite*
        "$margin" import disqus "$seed" --db "$work/m.sqlite" >/dev/null
        read -r sqlite_s _ < <(measure "$margin" import disqus "$work/export.xml" --db "$work/m.sqlite")
        psql "$url" -q -c "DROP DATABASE IF EXISTS busy" -c "CREATE DATABASE busy"
        busy=${url%/margin}/busy
        "$margin" import disqus "$seed" --db "$busy" >/dev/null
        read -r postgres_s postgres_mb < <(measure "$margin" import disqus "$work/export.xml" --db "$busy")
        echo "run $run: into a SQLite file in service ${sqlite_s} s, into PostgreSQL in service ${postgres_s} s (${postgres_mb} MB)" >&2
        sqlite_times+=("$sqlite_s"); postgres_times+=("$postgres_s"); postgres_peaks+=("$postgres_mb")
    done
    stored=$(psql "$busy" -Atc "select count(*) from comments")
    echo
    echo "Into a database that holds comments already (median of $runs; every run: SQLite ${sqlite_times[*]} s, PostgreSQL ${postgres_times[*]} s):"
    echo
    echo "| import $posts posts into | seconds | ratio to SQLite | peak RSS (MB) |"
    echo "|---|---|---|---|"
    sqlite_median=$(median "${sqlite_times[@]}")
    postgres_median=$(median "${postgres_times[@]}")
    echo "| a SQLite file | $sqlite_median | 1.00 | |"
    echo "| PostgreSQL (copy, import, merge; $stored comments stored) | $postgres_median | $(awk -v a="$postgres_median" -v b="$sqlite_median" 'BEGIN {printf "%.2f", a / b}') | $(max "${postgres_peaks[@]}") |"
fi
