"""The warehouse: dbt invocation (a subprocess, so dbt's global state never leaks into Airflow
workers) and read-only queries of the built DuckDB file."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from minerwatch.errors import MinerwatchError
from minerwatch.settings import REPO_ROOT, Settings
from minerwatch.settings import load as load_settings

log = logging.getLogger(__name__)

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"  # the default; MINERWATCH_DBT_PROJECT_DIR overrides


def dbt_state_dir(settings: Settings) -> Path:
    """dbt's target and log directories for this warehouse: ``<warehouse>.dbt/`` beside it.

    One per warehouse, not the project's shared ``target/``: dbt keeps its parse between runs
    only while the profile is unchanged, and the profile names the warehouse, so runs for two
    warehouses (a test beside a demo, a 10x bench beside 1x) sharing one target would throw
    each other's parse away — and write into each other's manifest."""
    return settings.warehouse.with_name(settings.warehouse.name + ".dbt")


def dbt_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(settings.dbt_env())
    env["MINERWATCH_DBT_TARGET"] = "s3" if settings.lake_is_s3 else "local"
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    env["DBT_PROFILES_DIR"] = str(settings.dbt_project_dir)
    env["DBT_PROJECT_DIR"] = str(settings.dbt_project_dir)
    state = dbt_state_dir(settings)
    env.setdefault("DBT_TARGET_PATH", str(state / "target"))
    env.setdefault("DBT_LOG_PATH", str(state / "logs"))
    return env


def project_fingerprint(project: Path) -> str:
    """The dbt project's files (models, properties, unit and data tests, seeds, macros, project
    and profile) and the versions that run them: what a unit test's verdict depends on."""
    import hashlib
    from importlib.metadata import version

    digest = hashlib.sha256()
    for pkg in ("dbt-core", "dbt-duckdb", "duckdb"):
        digest.update(f"{pkg}=={version(pkg)}\0".encode())
    for path in sorted(project.rglob("*")):
        rel = path.relative_to(project)
        if path.is_file() and rel.parts[0] not in ("target", "logs", "dbt_packages"):
            digest.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(args: list[str], settings: Settings | None = None, keep_manifest: bool = False) -> None:
    """Run ``dbt <args>`` against the configured lake and warehouse; raise on failure.

    ``keep_manifest``: leave the target's ``manifest.json`` as it is and write only the run
    results (``minerwatch.dbtexec``), for a build of an unchanged project."""
    settings = settings or load_settings()
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    if keep_manifest:
        cmd = [sys.executable, "-m", "minerwatch.dbtexec", *args]
    else:
        cmd = [dbt_executable(), *args]
    log.info("running %s", " ".join(cmd))
    proc = subprocess.run(
        cmd,
        cwd=settings.dbt_project_dir,
        env=dbt_env(settings),
        capture_output=True,
        text=True,
    )
    for line in proc.stdout.splitlines():
        log.info("dbt | %s", line)
    if proc.returncode != 0:
        for line in proc.stderr.splitlines():
            log.error("dbt | %s", line)
        failing = [ln for ln in proc.stdout.splitlines() if "FAIL" in ln or "ERROR" in ln]
        raise MinerwatchError(
            f"dbt {' '.join(args)} failed (exit {proc.returncode}) on warehouse "
            f"{settings.warehouse}:\n" + "\n".join(failing[-20:])
        )


BUILD_STATE = "build_state.json"  # in the target directory: what the last full build left


def forget_build_state(settings: Settings) -> None:
    """Drop what the last full build recorded, so the next build rebuilds everything: called
    before any dbt command that may create relations (a selective or failed build, or dbt run by
    hand through ``minerwatch dbt``)."""
    Path(dbt_env(settings)["DBT_TARGET_PATH"], BUILD_STATE).unlink(missing_ok=True)


def staged_datasets(settings: Settings) -> list[str]:
    """``source/dataset`` of every staged dataset that has a partition: the staging models that
    read a dataset a lake may not hold yet (macro ``staged_or_empty``) compile differently once
    it exists, so the views are rebuilt when this list changes."""
    from minerwatch.lake import Lake

    lake = Lake(settings)
    # the macro's glob: staged/<source>/<dataset>/<partition>/<file>.parquet, judged on each
    # dataset's newest partition (every partition of the datasets the macro reads is one such
    # file) — folder listings, not a listing of every staged file, which grew with every run
    out = []
    for source, dataset in lake.staged_datasets():
        newest = lake.newest_partition(source, dataset)
        if newest and any(len(key.split("/")) == 5 for key in newest[1]):
            out.append(f"{source}/{dataset}")
    return sorted(out)


def _manifest_nodes(target: Path) -> dict[str, Any] | None:
    """The nodes of the last manifest (None without a readable one): read once per build."""
    import json

    try:
        return json.loads((target / "manifest.json").read_text())["nodes"]
    except (OSError, ValueError, KeyError):
        return None


def _views_present(settings: Settings, target: Path, nodes: dict[str, Any] | None = None) -> bool:
    """Every view model of the last manifest exists in the warehouse."""
    import duckdb

    nodes = _manifest_nodes(target) if nodes is None else nodes
    if not nodes:
        return False
    wanted = {
        (n["schema"], n.get("alias") or n["name"])
        for n in nodes.values()
        if n["resource_type"] == "model" and n["config"].get("materialized") == "view"
    }
    if not settings.warehouse.exists():
        return False
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        have = set(
            con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_type = 'VIEW'"
            ).fetchall()
        )
    finally:
        con.close()
    return bool(wanted) and wanted <= have


def seed_only_tests(target: Path, nodes: dict[str, Any] | None = None) -> list[str]:
    """The names of the data tests whose every parent is a seed, in the last manifest."""
    nodes = _manifest_nodes(target) if nodes is None else nodes
    if not nodes:
        return []
    seeds = {k for k, n in nodes.items() if n["resource_type"] == "seed"}
    return sorted(
        n["name"]
        for n in nodes.values()
        if n["resource_type"] == "test"
        and n["depends_on"]["nodes"]
        and set(n["depends_on"]["nodes"]) <= seeds
    )


def build(settings: Settings | None = None, select: str | None = None) -> dict[str, Any]:
    """``dbt build`` (models, seeds, data and unit tests), optionally of a selection only, e.g.
    ``+fct_network_daily`` (tests that also need unselected models are skipped).

    A daily run rebuilds only what its new data changes. What stays the same is kept, judged by
    the project fingerprint (every file of the dbt project and the dbt/DuckDB versions):

    - unit tests check the models' SQL on fixed input rows — their verdict depends on the
      project, never on the data: skipped when they all passed for the same fingerprint;
    - the staging and intermediate VIEWS read the lake's staged Parquet when queried, so new
      partitions reach them without rebuilding, and seeds are the project's files: with the same
      fingerprint, lake and warehouse, the same staged datasets (``staged_datasets``) and every
      view present,
      they are not recreated (their documentation comments, persisted when they were created,
      stay), and the data tests that read only seeds are not run again (they check the
      project's own files, which the fingerprint covers). The mart TABLES are rebuilt and every
      data test on the staged data, the views and the marts runs, as always.

    Any change to a model, test, macro, seed or version, or a new staged dataset, rebuilds
    everything. Returns what ran."""
    import json

    settings = settings or load_settings()
    args = ["build", "--fail-fast"]
    target = Path(dbt_env(settings)["DBT_TARGET_PATH"])
    marker = target / BUILD_STATE
    try:
        state = json.loads(marker.read_text())
    except (OSError, ValueError):
        state = {}
    project = project_fingerprint(settings.dbt_project_dir)
    # the views name the lake root and the profile the warehouse: a moved or copied lake or
    # warehouse is a different build
    datasets = {"lake": settings.dbt_env(), "staged": staged_datasets(settings)}
    out = {"fingerprint": project, "unit_tests": "ran", "views_and_seeds": "rebuilt"}
    if state.get("unit_tests_passed") == project:
        args += ["--exclude-resource-type", "unit_test"]
        out["unit_tests"] = "skipped: the project is unchanged since they all passed"
    kept = not select and state.get("built") == project and state.get("datasets") == datasets
    nodes = _manifest_nodes(target) if kept else None  # read once, for the two checks below
    kept = kept and _views_present(settings, target, nodes)
    if select:
        args += ["--select", select, "--indirect-selection", "cautious"]
    elif kept:
        args += ["--select", "config.materialized:table", "resource_type:test"]
        out["views_and_seeds"] = "kept: the project and the staged datasets are unchanged"
        # a test that reads seeds only judges the project's own files: it passed in the full
        # build this fingerprint was recorded with, and its verdict cannot change until they do
        seed_tests = seed_only_tests(target, nodes)
        if seed_tests:
            args += ["--exclude", *seed_tests]
            out["seed_tests"] = f"skipped ({len(seed_tests)}): they read only the unchanged seeds"
    log.info(
        "dbt build (fingerprint %s): unit tests %s; views and seeds %s",
        project[:12],
        out["unit_tests"],
        out["views_and_seeds"],
    )
    if not kept:
        # this build recreates views and seeds: until it succeeds whole, what is in the warehouse
        # is not what the state says (a failed or partial build, another project or lake)
        forget_build_state(settings)
    # a kept build parses the project the last full build's manifest was written from: that
    # manifest stays (writing it is ~0.8 s), the day's run results are written
    run_dbt(args, settings, keep_manifest=kept)
    if not select:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(
            json.dumps({"built": project, "unit_tests_passed": project, "datasets": datasets})
        )
    return out


def query(sql: str, params: list[Any] | None = None, settings: Settings | None = None):
    """Run a read-only query on the warehouse; returns a pandas DataFrame."""
    import duckdb

    settings = settings or load_settings()
    if not settings.warehouse.exists():
        raise MinerwatchError(
            f"no warehouse at {settings.warehouse}: run `make demo` or `make run` first"
        )
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).df()
    finally:
        con.close()


HEADLINE_SQL = """
select
    date_day, block_height, hashrate_ehs, hashrate_ehs_7d, difficulty, price_usd,
    hashprice_usd_per_ehs_day, remaining_btc, remaining_btc_value_usd, four_year_reward_usd
from marts.fct_network_daily
where date_day <= ?
order by date_day desc
limit 1
"""


SECTOR_SQL = """
select
    d.date_day as sector_date, d.miners_count, d.miners_tracked, d.missing_tickers,
    d.missing_reasons, d.sector_market_cap_usd,
    d.mcap_to_remaining_btc_value, d.mcap_to_four_year_reward, d.mcap_to_four_year_reward_flat,
    m.month_start, m.best_ticker, m.best_return_pct, m.worst_ticker, m.worst_return_pct,
    m.btc_return_pct, m.is_month_complete,
    h.month_start as share_month, h.sector_hashrate_share, h.hashrate_reporting_miners,
    h.hashrate_reporting_tickers, h.hashrate_kinds, h.miners_tracked as share_miners_tracked,
    h.sector_realized_hashrate_share, h.btc_mined_reporting_miners, h.sector_btc_held,
    h.btc_held_reporting_miners, h.mcap_to_proportional_four_year_reward
from marts.fct_sector_daily d
left join marts.fct_sector_monthly m on m.month_start = date_trunc('month', d.date_day)
left join (
    select * from marts.fct_sector_monthly
    where sector_hashrate_share is not null and month_start <= ?
    order by month_start desc limit 1
) h on true
where d.date_day <= ?
order by d.date_day desc
limit 1
"""


def headline(day, settings: Settings | None = None) -> dict[str, Any]:
    out = _first_row(HEADLINE_SQL, [day], settings, "fct_network_daily")
    try:
        out.update(_first_row(SECTOR_SQL, [day, day], settings, "fct_sector_daily"))
    except MinerwatchError:
        pass  # no market data yet: the network figures stand alone
    return out


def _first_row(sql: str, params: list, settings: Settings | None, table: str) -> dict[str, Any]:
    df = query(sql, params, settings)
    if df.empty:
        raise MinerwatchError(f"marts.{table} has no row on or before {params[-1]}")
    out: dict[str, Any] = {}
    import pandas as pd

    for key, value in df.iloc[0].to_dict().items():
        if value is pd.NaT or (not isinstance(value, str | list | dict) and pd.isna(value)):
            out[key] = None  # no such month / figure yet (NaT, NaN, NA): said as such, not crashed
            continue
        if hasattr(value, "to_pydatetime"):
            value = value.to_pydatetime().date()
        value = value.item() if hasattr(value, "item") else value
        out[key] = None if isinstance(value, float) and value != value else value
    if out.get("block_height") is not None:
        out["block_height"] = int(out["block_height"])
    return out


def format_headline(h: dict[str, Any], warehouse: Path) -> str:
    def num(v, fmt: str, scale: float = 1.0) -> str:
        if v is None or v != v:
            return "n/a"
        return format(v if scale == 1.0 else v / scale, fmt)

    return "\n".join(
        [
            f"minerwatch — network on {h['date_day']:%Y-%m-%d}",
            f"  block height            {num(h['block_height'], ',d')}",
            f"  hashrate (7-day mean)   {num(h['hashrate_ehs_7d'], ',.1f')} EH/s",
            f"  difficulty              {num(h['difficulty'], '.4g')}",
            f"  price                   ${num(h['price_usd'], ',.0f')}",
            f"  hashprice               ${num(h['hashprice_usd_per_ehs_day'], ',.0f')} per EH/s per day",
            f"  bitcoin left to mine    {num(h['remaining_btc'], ',.0f')} BTC"
            f" (${num(h['remaining_btc_value_usd'], ',.1f', 1e9)} bn)",
            f"  four years of rewards   ${num(h['four_year_reward_usd'], ',.1f', 1e9)} bn",
        ]
        + _sector_lines(h, num)
        + [f"  warehouse               {warehouse}"]
    )


def coverage_line(h: dict[str, Any]) -> str:
    """'13 of 14 priced; missing: SDIG (no prices from the source)' (or 'all 14 priced')."""
    count, tracked = h.get("miners_count"), h.get("miners_tracked")
    if count is None or tracked is None:
        return "coverage unknown"
    if count == tracked:
        return f"all {tracked} members priced"
    detail = h.get("missing_reasons") or h.get("missing_tickers") or "?"
    return f"{count} of {tracked} priced; missing: {detail}"


def hashrate_share_line(h: dict[str, Any], num) -> str:
    if not h.get("share_month"):
        return "  share of network hash rate: no production updates parsed yet"
    reporting, tracked = h.get("hashrate_reporting_miners"), h.get("share_miners_tracked")
    scope = (
        f"from {reporting} of {tracked} members ({h.get('hashrate_reporting_tickers')}): "
        "partial, not the whole group's"
        if tracked and reporting is not None and reporting < tracked
        else f"all {reporting} members reporting"
    )
    lines = [
        f"  share of network hash rate {num(h.get('sector_hashrate_share'), '.1%')} in "
        f"{h['share_month']:%B %Y}, {scope}; kinds: {h.get('hashrate_kinds')}"
    ]
    if h.get("sector_realized_hashrate_share") is not None:
        lines.append(
            f"  realized share (bitcoin mined / network rewards) "
            f"{num(h.get('sector_realized_hashrate_share'), '.1%')} from "
            f"{h.get('btc_mined_reporting_miners')} members; bitcoin held "
            f"{num(h.get('sector_btc_held'), ',.0f')} BTC ({h.get('btc_held_reporting_miners')} "
            "reporting)"
        )
    if h.get("mcap_to_proportional_four_year_reward") is not None:
        lines.append(
            "  vs its share of 4 years of rewards "
            f"{num(h.get('mcap_to_proportional_four_year_reward'), '.2f')}x "
            "(market cap / (hash-rate share × flat four-year reward), month end)"
        )
    return "\n".join(lines)


def _sector_lines(h: dict[str, Any], num) -> list[str]:
    if h.get("sector_date") is None:
        return ["  (no market data in the warehouse yet)"]
    if h.get("month_start") is not None:
        month = f"{h['month_start']:%B %Y}" + ("" if h.get("is_month_complete") else " to date")
        returns = (
            f"  {month}: best {h.get('best_ticker') or 'n/a'} "
            f"{num(h.get('best_return_pct'), '+.1f')} %, worst {h.get('worst_ticker') or 'n/a'} "
            f"{num(h.get('worst_return_pct'), '+.1f')} %, bitcoin "
            f"{num(h.get('btc_return_pct'), '+.1f')} %"
        )
    else:
        returns = "  monthly returns: no month with returns yet"
    return [
        f"miners — {coverage_line(h)} on {h['sector_date']:%Y-%m-%d}",
        f"  combined market cap     ${num(h['sector_market_cap_usd'], ',.1f', 1e9)} bn",
        f"  vs bitcoin left to mine {num(h['mcap_to_remaining_btc_value'], '.1%')}",
        f"  vs 4 years of rewards   {num(h.get('mcap_to_four_year_reward_flat'), '.1%')} flat "
        "(210,000 blocks at today's subsidy, the note's reading); "
        f"{num(h['mcap_to_four_year_reward'], '.1%')} halving-aware",
        returns,
        hashrate_share_line(h, num),
    ]
