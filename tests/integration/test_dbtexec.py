"""``minerwatch.dbtexec``, the runner of the kept daily builds (issue #15): dbt's exit codes, and
no run results passed off as a run's when it ends in an error (the previous ones are removed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def _run(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DBT_TARGET_PATH": str(tmp_path / "target"),
           "DBT_PROJECT_DIR": str(tmp_path / "project"), "DBT_PROFILES_DIR": str(tmp_path / "project"),
           "DBT_LOG_PATH": str(tmp_path / "logs"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "minerwatch.dbtexec", *args],
        cwd=tmp_path / "project", env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_an_error_exits_2_and_leaves_no_stale_run_results(tmp_path):
    (tmp_path / "project").mkdir()
    stale = tmp_path / "target" / "run_results.json"
    stale.parent.mkdir()
    stale.write_text(json.dumps({"results": [{"status": "success"}]}))
    proc = _run(tmp_path, "build")  # no dbt_project.yml: dbt cannot start
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "No dbt_project.yml found" in proc.stderr
    assert not stale.exists()


def test_a_run_writes_run_results_but_no_manifest(tmp_path):
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        "name: t\nversion: '1.0.0'\nprofile: t\nmodel-paths: ['models']\n"
    )
    (project / "profiles.yml").write_text(
        f"t:\n  target: d\n  outputs:\n    d:\n      type: duckdb\n"
        f"      path: {tmp_path / 'w.duckdb'}\n"
    )
    (project / "models" / "one.sql").write_text("select 1 as x")
    (project / "models" / "one.yml").write_text(
        "models:\n  - name: one\n    columns:\n      - name: x\n"
        "        data_tests: [not_null, {accepted_values: {arguments: {values: [2]}}}]\n"
    )
    proc = _run(tmp_path, "build")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the accepted_values test fails
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    assert sorted(r["status"] for r in results) == ["fail", "pass", "success"]
    assert not (tmp_path / "target" / "manifest.json").exists()


def test_the_collector_is_back_on_with_dbts_imports_frozen(tmp_path):
    # the imports load with the garbage collector off and are frozen out of its scans after:
    # it must be on again for the run, whatever dbt answers
    (tmp_path / "project").mkdir()
    code = (
        "import gc, sys\n"
        "from minerwatch import dbtexec\n"
        "rc = dbtexec.main(['build'])\n"
        "print(rc, gc.isenabled(), gc.get_freeze_count())\n"
    )
    env = {**os.environ, "DBT_TARGET_PATH": str(tmp_path / "target"),
           "DBT_LOG_PATH": str(tmp_path / "logs"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path / "project", env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    rc, enabled, frozen = proc.stdout.split()[-3:]
    assert (rc, enabled) == ("2", "True"), proc.stdout + proc.stderr
    assert int(frozen) > 50_000  # dbt's classes and generated code
