"""``python -m minerwatch.dbtexec <dbt args>``: dbt in this process (dbt's programmatic
``dbtRunner``), for the warehouse's kept daily builds.

It exists for one thing the dbt CLI cannot do: leave ``manifest.json`` alone and still write
``run_results.json``. dbt writes both or neither (``--write-json`` / ``--no-write-json``), and
serialising the manifest (twice per invocation: after the parse and after the run) is ~0.8 s of
a ~6 s daily build (cProfile, issue #15). A kept build (``warehouse.build``: project, lake and
staged datasets unchanged since the last full build) parses the same project, so the manifest
of that full build stays right; its run results are the day's and are written here, as the CLI
would (``target/run_results.json``). A run that ends in an exception (no results) leaves no run
results: the previous ones are removed first, never passed off as this run's.

Exit codes as the dbt CLI: 0 success, 1 a failed node, 2 an error. Like the CLI it runs in its
own process (``warehouse.run_dbt``), so dbt's global state never reaches an Airflow worker."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    target = Path(os.environ.get("DBT_TARGET_PATH") or "target")
    results = target / "run_results.json"
    results.unlink(missing_ok=True)
    # dbt's imports make ~137,000 long-lived objects (its classes, mashumaro's generated code)
    # and ~0.15 s of garbage collections while they load; every full collection of the run
    # then walks them again (~0.2 s more). Imports make no garbage worth collecting: the
    # collector is off while they load, and what they made is frozen out of its scans
    # (measured on a kept daily build: 0.47-0.57 s of collections -> 0.23 s).
    gc.disable()
    try:
        from dbt.cli.main import dbtRunner
    finally:
        gc.freeze()
        gc.enable()

    outcome = dbtRunner().invoke([*argv, "--no-write-json"])
    if outcome.result is not None and hasattr(outcome.result, "write"):
        target.mkdir(parents=True, exist_ok=True)
        outcome.result.write(str(results))
    if outcome.exception is not None:
        print(f"dbt error: {outcome.exception}", file=sys.stderr)
        return 2
    return 0 if outcome.success else 1


if __name__ == "__main__":  # pragma: no cover - run as a module by warehouse.run_dbt
    sys.exit(main(sys.argv[1:]))
