"""``minerwatch`` command line: demo, run, setup-airflow, sample, replay, dbt, headline, report."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from minerwatch.settings import REPO_ROOT, apply_airflow_defaults

log = logging.getLogger("minerwatch")

# the claims file each command checks unless MINERWATCH_CLAIMS_FILE names another
DEMO_CLAIMS = REPO_ROOT / "claims" / "sample_demo.yml"  # about the demo's SAMPLE data
RUN_CLAIMS = REPO_ROOT / "claims" / "jpmorgan_2024-06.yml"  # the bank note, on live data


def _yesterday() -> dt.date:
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


def _date(value: str | None) -> dt.date:
    if not value:
        return _yesterday()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise SystemExit(f"DATE={value!r} is not a date; expected YYYY-MM-DD") from None


def setup_airflow() -> None:
    """Migrate the metadata DB and create the pools (idempotent)."""
    apply_airflow_defaults()
    Path(os.environ["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    from airflow.utils import db

    db.initdb()
    from airflow.models.pool import Pool

    from minerwatch.airflow_names import (
        SEC_POOL,
        SEC_POOL_SLOTS,
        WAREHOUSE_POOL,
        WAREHOUSE_POOL_SLOTS,
    )

    Pool.create_or_update_pool(
        WAREHOUSE_POOL,
        slots=WAREHOUSE_POOL_SLOTS,
        description="DuckDB warehouse writers: one writing process per file",
        include_deferred=False,
    )
    Pool.create_or_update_pool(
        SEC_POOL,
        slots=SEC_POOL_SLOTS,
        description="SEC EDGAR requests: slots x per-process limiter <= 10 requests/s",
        include_deferred=False,
    )
    print(
        f"Airflow ready: AIRFLOW_HOME={os.environ['AIRFLOW_HOME']}, pools "
        f"{WAREHOUSE_POOL}={WAREHOUSE_POOL_SLOTS}, {SEC_POOL}={SEC_POOL_SLOTS}"
    )


def run_dag(day: dt.date, dag_id: str = "minerwatch_daily") -> str:
    """One real DAG run for ``day`` (dag.test: every task, in order, in this process)."""
    apply_airflow_defaults()
    from airflow.dag_processing.dagbag import DagBag

    # dag.test() in Airflow 3.3.2 cannot run a DAG with a DeadlineAlert: parse it without one
    # (scheduled runs keep it; see minerwatch.alerts.run_deadline)
    previous = os.environ.get("MINERWATCH_RUN_DEADLINE")
    os.environ["MINERWATCH_RUN_DEADLINE"] = "off"
    try:
        bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    finally:
        if previous is None:
            os.environ.pop("MINERWATCH_RUN_DEADLINE", None)
        else:
            os.environ["MINERWATCH_RUN_DEADLINE"] = previous
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    dag = bag.get_dag(dag_id)
    logical = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    started = time.monotonic()
    dr = dag.test(logical_date=logical, run_after=logical + dt.timedelta(days=1))
    state = str(getattr(dr, "state", "unknown"))
    log.info("DAG run %s for %s: %s in %.1fs", dag_id, day, state, time.monotonic() - started)
    return state


def _print_headline(day: dt.date) -> None:
    from minerwatch import publish, report, warehouse
    from minerwatch.settings import load

    settings = load()
    print()
    print(warehouse.format_headline(warehouse.headline(day), settings.warehouse))
    print(f"  published (read-only)   {publish.published_path(settings)}")
    print(f"  Parquet marts           {settings.lake_url}/marts/")
    path = report.report_path(settings, day.replace(day=1))
    print(f"  monthly report          {path if path.exists() else '(not written)'}")
    if settings.claims_file and path.exists():
        import json

        from minerwatch import claims
        from minerwatch.errors import ConfigurationError
        from minerwatch.lake import Lake

        # the report task checked the claims; read its result instead of checking again
        results = json.loads(Lake(settings).read_bytes(report.claims_key(day.replace(day=1))))
        counts = {s: sum(r["status"] == s for r in results) for s in report.CLAIM_STATUSES}
        line = ", ".join(f"{n} {s}" for s, n in counts.items())
        try:
            unchecked = len(claims.load_not_checked(settings.claims_file))
        except ConfigurationError:
            unchecked = 0  # the report says what is wrong with the file
        if unchecked:
            line += f" ({unchecked} more listed as not checkable)"
        print(f"  claims                  {settings.claims_file.name}: {line}")
        for r in results:  # the ones to look at, with why
            if r["status"] != "supported":
                print(f"    {r['claim']['id']}: {r['status']} — {r['explanation']}")


def _demo(name: str):
    """A module of ``minerwatch.demo`` (sample, refdata, replay). A development install has
    them; the production image leaves the demo out, and this says so instead of a traceback."""
    import importlib
    import importlib.util

    if importlib.util.find_spec("minerwatch.demo") is None:
        raise SystemExit(
            "the demo (minerwatch.demo: sample data, replay server) is not installed here — the "
            "production image leaves it out; run the demo from a checkout (make setup && make "
            "demo), or `minerwatch run` against the live sources"
        )
    return importlib.import_module(f"minerwatch.demo.{name}")


def demo(day: dt.date, real_network: Path | None = None) -> int:
    refdata, sample, replay = _demo("refdata"), _demo("sample"), _demo("replay")

    recording = Path(tempfile.mkdtemp(prefix="minerwatch-sample-"))
    if real_network is not None:
        refdata.write_recording(recording, real_network, market_end=day)
        print(
            f"REAL network data from {real_network} (through {refdata.LAST_DAY}); market and "
            f"SEC data SAMPLE (not real), in {recording}"
        )
    else:
        sample.write_recording(recording, day)
        print(f"SAMPLE DATA (not real) generated through {day} in {recording}")
    with replay.ReplayServer(recording) as server:
        os.environ.update(server.env())
        # the replay server, like SEC, refuses requests without a declared contact
        os.environ.setdefault("MINERWATCH_SEC_USER_AGENT", "minerwatch demo demo@example.invalid")
        if real_network is None:  # the sample claims are about the sample's June 2024
            os.environ.setdefault("MINERWATCH_CLAIMS_FILE", str(DEMO_CLAIMS))
        os.environ["MINERWATCH_SAMPLE_DATA"] = "true"  # the report says so on its first screen
        print(f"replay server on {server.base_url}")
        state = run_dag(day)
    if state.endswith("success"):
        _print_headline(day)
        if real_network is not None:
            print(
                "\n(network figures: REAL data; market caps, returns and hash-rate shares: "
                "SAMPLE data)"
            )
        else:
            print("\n(the figures above are computed from SAMPLE DATA, not real network data)")
        return 0
    print(f"DAG run for {day} ended {state}; see the task logs above", file=sys.stderr)
    return 1


def run(day: dt.date) -> int:
    os.environ.setdefault("MINERWATCH_CLAIMS_FILE", str(RUN_CLAIMS))
    state = run_dag(day)
    if state.endswith("success"):
        _print_headline(day)
        return 0
    print(f"DAG run for {day} ended {state}; see the task logs above", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="minerwatch", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("demo", help="run the daily DAG offline on generated sample data")
    p.add_argument("--date", default=os.environ.get("DATE"))
    p.add_argument(
        "--real-network",
        nargs="?",
        const="default",
        metavar="REFDATA_DIR",
        help="serve the REAL network history (Coin Metrics file since genesis, mempool "
        "retargets) from REFDATA_DIR (default ../shared/refdata); date default 2024-05-31",
    )
    p = sub.add_parser("run", help="run the daily DAG against the configured (live) sources")
    p.add_argument("--date", default=os.environ.get("DATE"))
    sub.add_parser("setup-airflow", help="migrate Airflow's metadata DB and create pools")
    p = sub.add_parser("sample", help="write the sample-data recording")
    p.add_argument("--dir", required=True, type=Path)
    p.add_argument("--end", required=True)
    p = sub.add_parser("replay", help="serve a recording over HTTP until interrupted")
    p.add_argument("--dir", required=True, type=Path)
    p.add_argument("--port", type=int, default=0)
    p = sub.add_parser("dbt", help="run dbt with the settings applied, e.g. `minerwatch dbt build`")
    p.add_argument("args", nargs=argparse.REMAINDER)
    p = sub.add_parser("headline", help="print the headline figures of the warehouse")
    p.add_argument("--date", default=os.environ.get("DATE"))
    p = sub.add_parser("report", help="write the monthly HTML report from the published warehouse")
    p.add_argument("--date", default=os.environ.get("DATE"))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    if args.cmd == "demo":
        if args.real_network:
            refdata = _demo("refdata")
            where = (
                refdata.default_dir() if args.real_network == "default" else Path(args.real_network)
            )
            day = _date(args.date) if args.date else refdata.LAST_DAY
            return demo(day, real_network=where)
        return demo(_date(args.date))
    if args.cmd == "run":
        return run(_date(args.date))
    if args.cmd == "setup-airflow":
        setup_airflow()
        return 0
    if args.cmd == "sample":
        sample = _demo("sample")
        sample.write_recording(args.dir, _date(args.end))
        print(f"sample recording written to {args.dir}")
        return 0
    if args.cmd == "replay":
        replay = _demo("replay")
        server = replay.ReplayServer(args.dir, port=args.port).start()
        for k, v in server.env().items():
            print(f"export {k}={v}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            server.stop()
        return 0
    if args.cmd == "dbt":
        from minerwatch import warehouse

        dbt_args = args.args or ["build"]
        if dbt_args[0] in ("build", "run", "seed", "snapshot", "clone"):
            # it may create relations: the DAG's next build rebuilds everything
            from minerwatch.settings import load

            warehouse.forget_build_state(load())
        warehouse.run_dbt(dbt_args)
        return 0
    if args.cmd == "headline":
        _print_headline(_date(args.date))
        return 0
    if args.cmd == "report":
        from minerwatch import report

        out = report.build(_date(args.date))
        print(f"report written to {out['report']} ({out['lake_report']}); claims: {out['claims']}")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
