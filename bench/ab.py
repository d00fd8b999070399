#!/usr/bin/env python3
"""Before/after comparison of two or more `margin` binaries on the benchmark's own scenarios, in
alternating rounds, in alternating order (the machine's speed drifts by 10-50 % over minutes, so
only figures from the same rounds compare). Not part of the test command.

    git stash; swift build -c release --product margin; cp .build/release/margin /tmp/margin-old
    git stash pop; swift build -c release --product margin
    bench/ab.py /tmp/margin-old .build/release/margin                 # a,b,c,d,e; 3 rounds of 8 s
    ROUNDS=5 DURATION=10 SCENARIOS=d,e bench/ab.py OLD NEW

List the older binary first: it seeds the database (bench/http/run.py's data: one thread of 200
comments, 500 threads of 10) and a newer one migrates its copy forward. Every measurement starts
that binary on a fresh copy of the seeded database, warms up (WARMUP s), then runs wrk
(-t2 -c64, DURATION s); the mixed load (e) also times reads from one more client, as
bench/http.sh does. Prints each measurement, then per scenario the median req/s, p99 and peak RSS
of each binary and its ratio to the first.
"""
import os
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("WARMUP", "2")
os.environ.setdefault("DURATION", "8")
sys.path.insert(0, str(Path(__file__).resolve().parent / "http"))
import run  # noqa: E402  (reads WARMUP and DURATION when imported)


def main():
    binaries = [Path(b).resolve() for b in sys.argv[1:]]
    if len(binaries) < 2 or not all(b.exists() for b in binaries):
        sys.exit(__doc__)
    rounds = int(os.environ.get("ROUNDS", "3"))
    scenarios = os.environ.get("SCENARIOS", "a,b,c,d,e").split(",")
    work = Path(tempfile.mkdtemp(prefix="margin-ab-"))
    run.atexit.register(run.shutil.rmtree, work, True)
    run.atexit.register(run.stop_all)

    run.MARGIN_BIN = binaries[0]
    golden = work / "golden.sqlite"
    seeder = run.Margin(work)
    seeder.start(golden)
    seeder.stop()
    run.margin_cli("sites", "update", "default", "--moderation", "none", "--db", str(golden))
    seeder.start(golden)
    run.seed(seeder, run.small_plan())
    seeder.stop()

    raw = work / "raw"
    raw.mkdir()
    results = {}
    for round_number in range(1, rounds + 1):
        # Alternate the order: in one round the binary measured second was consistently slower
        # (14 % in the mixed load, with the same binary under two names).
        for binary in binaries if round_number % 2 else list(reversed(binaries)):
            run.MARGIN_BIN = binary
            for scenario in scenarios:
                db = work / "run.sqlite"
                run.copy_db(golden, db)
                server = run.Margin(work)
                server.start(db)
                try:
                    script = run.scenario_scripts(server)[scenario]
                    probes = [server.thread_path(f"/t/{n}/") for n in range(1, 501)] if scenario == "e" else None
                    result = run.measure(server, script, raw, f"{scenario}-r{round_number}", probes)
                finally:
                    server.stop()
                results.setdefault((scenario, binary), []).append(result)
                probe = f", read probe p99 {result['probe_p99_ms']:.1f} ms" if "probe_p99_ms" in result else ""
                print(f"round {round_number} {binary} {scenario}: {result['rps']:.0f} req/s, p99 {result['p99_ms']:.1f} ms, "
                      f"peak RSS {result['peak_rss_mb']:.0f} MB{probe}", flush=True)

    print("\n| scenario | binary | req/s (median) | ratio to first | p99 ms | read probe p99 ms | peak RSS MB |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for scenario in scenarios:
        reference = statistics.median(r["rps"] for r in results[(scenario, binaries[0])])
        for binary in binaries:
            rows = results[(scenario, binary)]
            rps = statistics.median(r["rps"] for r in rows)
            probes = [r["probe_p99_ms"] for r in rows if r.get("probe_p99_ms") is not None]
            probe = f"{statistics.median(probes):.1f}" if probes else ""
            p99 = statistics.median(r["p99_ms"] for r in rows)
            peak = max(r["peak_rss_mb"] for r in rows)
            print(f"| {scenario} | {binary} | {rps:,.0f} | {rps / reference:.2f}× | {p99:.1f} | {probe} | {peak:.0f} |")


if __name__ == "__main__":
    main()
