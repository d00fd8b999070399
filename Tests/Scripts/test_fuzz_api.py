"""scripts/fuzz-api's log check: a run in which the server logged an error must fail, whatever the
log format, even when every answer schemathesis saw looked right."""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def fuzz(**env):
    """scripts/fuzz-api over one cheap operation (the check under test is the log's, not the API's)."""
    environment = dict(os.environ, EXAMPLES="1", FUZZ_PYTHON=sys.executable, **env)
    return subprocess.run([str(ROOT / "scripts" / "fuzz-api"), "--include-path", "/healthz",
                           "--phases", "coverage,fuzzing"], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("log_format", ["logfmt", "json"])
def test_an_error_the_server_logs_fails_the_run(log_format):
    # Given a fuzz run whose answers all pass, when the server logs one error (a vote on a database
    # that lost its votes table), then the run fails and shows the log.
    run = fuzz(FUZZ_SELF_CHECK="1", FUZZ_LOG_FORMAT=log_format)
    assert "answered 500" in run.stderr, run.stderr
    assert run.returncode != 0, run.stdout + run.stderr
    assert "the server logged errors" in run.stderr
    assert "unexpected error" in run.stderr


def test_a_clean_run_passes():
    # The same run without the broken database passes: the failure above is the log check's.
    run = fuzz(FUZZ_LOG_FORMAT="json")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "the server logged errors" not in run.stderr
