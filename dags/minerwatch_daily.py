"""minerwatch_daily — land, validate and model the day's network, market and SEC data.

Thin wiring only: task bodies live in ``minerwatch.pipeline`` (``network``, ``market``, ``sec``),
``minerwatch.warehouse``, ``minerwatch.publish`` and ``minerwatch.report``, imported inside the
tasks, so this file parses fast (no pandas, duckdb, GX or requests here; the pool and queue names
come from ``minerwatch.airflow_names``, constants only).

The logical date is the data day: the run for 2026-11-20 fetches data through that UTC day. The
schedule has data intervals (CronDataIntervalTimetable, midnight UTC), so the scheduled run for a
day starts once the day is over, and `airflow dags test minerwatch_daily 2026-11-20` means the
same day. Network tasks are not retried by Airflow: the HTTP layer retries transient errors
(1 + MINERWATCH_HTTP_MAX_RETRIES requests per dead source, 6 by default) and definitive ones fail
at once; deterministic steps (validation, dbt) do not retry: rerunning them cannot change their
answer.

Alerts (``minerwatch.alerts``): a failed task, a red run and a late run (a DeadlineAlert) e-mail
through the Airflow connection ``minerwatch_alerts`` when it exists. Asset URIs name the real lake
objects (``file://…`` or ``s3://…`` from MINERWATCH_LAKE_URL), so lineage tools see datasets.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Asset, CronDataIntervalTimetable, dag, task

from minerwatch import alerts
from minerwatch.airflow_names import (
    COMPANIES_PER_TASK,
    SEC_POOL,
    WAREHOUSE_POOL,
    WAREHOUSE_QUEUE,
)
from minerwatch.settings import lake_asset_uri, warehouse_asset_uri

RAW_COINMETRICS = Asset(lake_asset_uri("raw/coinmetrics/btc_asset_metrics"))
RAW_COINMETRICS_CSV = Asset(lake_asset_uri("raw/coinmetrics/btc_csv"))  # API refused: fallback
RAW_MEMPOOL = Asset(lake_asset_uri("raw/mempool/difficulty_adjustments"))
RAW_MEMPOOL_HASHRATE = Asset(lake_asset_uri("raw/mempool/hashrate_daily"))
RAW_MEMPOOL_POOL_SHARES = Asset(lake_asset_uri("raw/mempool/pool_shares_weekly"))
RAW_MEMPOOL_POOL_BLOCKS = Asset(lake_asset_uri("raw/mempool/pool_blocks"))
STAGED_COINMETRICS = Asset(lake_asset_uri("staged/coinmetrics/btc_asset_metrics"))
STAGED_MEMPOOL = Asset(lake_asset_uri("staged/mempool/difficulty_adjustments"))
STAGED_MEMPOOL_HASHRATE = Asset(lake_asset_uri("staged/mempool/hashrate_daily"))
STAGED_MEMPOOL_POOLS = Asset(lake_asset_uri("staged/mempool/pool_shares_weekly"))
STAGED_MEMPOOL_POOL_BLOCKS = Asset(lake_asset_uri("staged/mempool/pool_blocks"))
RAW_PRICES = Asset(lake_asset_uri("raw/market/prices_daily"))
STAGED_PRICES = Asset(lake_asset_uri("staged/market/prices_daily"))
RAW_SEC = Asset(lake_asset_uri("raw/sec"))
STAGED_SEC = Asset(lake_asset_uri("staged/sec/share_counts"))
STAGED_PRODUCTION = Asset(lake_asset_uri("staged/sec/production_updates"))
WAREHOUSE = Asset(warehouse_asset_uri())
PUBLISHED = Asset(lake_asset_uri("marts"))
# what dbt reads: lineage (Airflow's asset graph, OpenLineage) links staged -> warehouse -> marts
STAGED_ALL = [
    STAGED_COINMETRICS, STAGED_MEMPOOL, STAGED_MEMPOOL_HASHRATE, STAGED_MEMPOOL_POOLS,
    STAGED_MEMPOOL_POOL_BLOCKS, STAGED_PRICES, STAGED_SEC, STAGED_PRODUCTION,
]  # fmt: skip

# Tasks annotated ``-> dict`` say multiple_outputs=False: TaskFlow's default for them also pushes
# every key as its own XCom (nothing reads those), ~12 ms each — 150 for the SEC plan at 10x.

# one retry layer: minerwatch.http retries transient errors (1 + MINERWATCH_HTTP_MAX_RETRIES
# requests per dead source, 6 by default); definitive ones fail at once
NETWORK_RETRIES = {"retries": 0}


# a chunk's mapped task is shown by the companies it holds, e.g. "MARA..WULF (15)"
CHUNK_LABEL = "{{ chunk_label }}"


def label_chunk(items: list[str]) -> None:
    from airflow.sdk import get_current_context

    get_current_context()["chunk_label"] = f"{items[0]}..{items[-1]} ({len(items)})"


@dag(
    dag_id="minerwatch_daily",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=datetime(2009, 1, 3),  # any day since genesis can be run or backfilled
    catchup=False,
    max_active_runs=1,
    tags=["minerwatch", "network", "daily"],
    default_args={
        "owner": "minerwatch",
        "retries": 0,
        "on_failure_callback": alerts.task_failed(),
    },
    on_failure_callback=alerts.run_failed(),
    deadline=alerts.run_deadline(),
    doc_md=__doc__,
)
def minerwatch_daily():
    @task(outlets=[RAW_COINMETRICS, RAW_COINMETRICS_CSV], **NETWORK_RETRIES)
    def extract_coinmetrics(logical_date=None) -> list[str]:
        from minerwatch import tasks
        from minerwatch.pipeline import network

        return tasks.run(network.extract_coinmetrics, logical_date)

    @task(inlets=[RAW_COINMETRICS, RAW_COINMETRICS_CSV], outlets=[STAGED_COINMETRICS])
    def stage_coinmetrics(raw_keys: list[str], logical_date=None) -> str:
        from minerwatch import tasks
        from minerwatch.pipeline import network

        return tasks.run(network.stage_coinmetrics, logical_date, raw_keys)

    @task(outlets=[RAW_MEMPOOL], **NETWORK_RETRIES)
    def extract_mempool_difficulty(logical_date=None) -> list[str]:
        from minerwatch import tasks
        from minerwatch.pipeline import network

        return tasks.run(network.extract_mempool_difficulty, logical_date)

    @task(inlets=[RAW_MEMPOOL], outlets=[STAGED_MEMPOOL])
    def stage_mempool_difficulty(raw_keys: list[str], logical_date=None) -> str:
        from minerwatch import tasks
        from minerwatch.pipeline import network

        return tasks.run(network.stage_mempool_difficulty, logical_date, raw_keys)

    @task(outlets=[RAW_MEMPOOL_HASHRATE], **NETWORK_RETRIES, multiple_outputs=False)
    def extract_mempool_hashrate(logical_date=None) -> dict:
        from minerwatch import tasks
        from minerwatch.pipeline import network

        return tasks.run(network.extract_mempool_hashrate, logical_date)

    @task(inlets=[RAW_MEMPOOL_HASHRATE], outlets=[STAGED_MEMPOOL_HASHRATE])
    def stage_mempool_hashrate(batch: dict, logical_date=None) -> str | None:
        from minerwatch import tasks
        from minerwatch.pipeline import network

        return tasks.run(network.stage_mempool_hashrate, logical_date, batch)

    @task(
        outlets=[RAW_MEMPOOL_POOL_SHARES, RAW_MEMPOOL_POOL_BLOCKS],
        **NETWORK_RETRIES,
        multiple_outputs=False,
    )
    def extract_mempool_pools(logical_date=None) -> dict:
        from minerwatch import tasks
        from minerwatch.pipeline import network

        return tasks.run(network.extract_mempool_pools, logical_date)

    @task(
        inlets=[RAW_MEMPOOL_POOL_SHARES, RAW_MEMPOOL_POOL_BLOCKS],
        outlets=[STAGED_MEMPOOL_POOLS, STAGED_MEMPOOL_POOL_BLOCKS],
    )
    def stage_mempool_pools(batch: dict, logical_date=None) -> list[str]:
        from minerwatch import tasks
        from minerwatch.pipeline import network

        return tasks.run(network.stage_mempool_pools, logical_date, batch)

    @task
    def price_tickers(logical_date=None) -> list[list[str]]:
        """Each ticker with a membership period in the history window, once, plus BTC-USD, in
        chunks of COMPANIES_PER_TASK (one mapped task each)."""
        from minerwatch import universe
        from minerwatch.dates import as_day
        from minerwatch.settings import load

        day = as_day(logical_date)
        tickers = universe.price_tickers(start=load().history_start, end=day)
        return universe.chunks(tickers, COMPANIES_PER_TASK)

    @task(outlets=[RAW_PRICES], map_index_template=CHUNK_LABEL, **NETWORK_RETRIES)
    def extract_prices(tickers: list[str], logical_date=None) -> list[dict]:
        from minerwatch import tasks
        from minerwatch.pipeline import market

        label_chunk(tickers)
        return tasks.run_each(market.extract_prices, logical_date, tickers)

    @task(inlets=[RAW_PRICES], outlets=[STAGED_PRICES])
    def stage_prices(chunks: list[list[dict]], logical_date=None) -> list[str]:
        from minerwatch import tasks
        from minerwatch.pipeline import market

        return tasks.run(market.stage_prices, logical_date, [b for c in chunks for b in c])

    @task(outlets=[RAW_SEC], pool=SEC_POOL, **NETWORK_RETRIES)
    def extract_sec_company_tickers(logical_date=None) -> str:
        from minerwatch import tasks
        from minerwatch.pipeline import sec

        return tasks.run(sec.extract_sec_company_tickers, logical_date)

    @task
    def check_sec_ciks(raw_key: str, logical_date=None) -> list[str]:
        """Warns loudly on a seed/SEC CIK mismatch; returns the (reviewed) seed CIKs of every
        membership period in the history window, once each."""
        from minerwatch import universe
        from minerwatch.dates import as_day
        from minerwatch.pipeline import sec
        from minerwatch.settings import load

        sec.check_sec_ciks(logical_date, raw_key)
        ciks = universe.ciks(load().history_start, as_day(logical_date))
        return universe.chunks(ciks, COMPANIES_PER_TASK)

    @task(outlets=[RAW_SEC], pool=SEC_POOL, **NETWORK_RETRIES, multiple_outputs=False)
    def plan_sec_fetches(chunks: list[list[str]], logical_date=None) -> dict:
        """Reads EDGAR's new daily indexes: which companies filed since their filings were
        staged (only their submissions are fetched); every company when no index can be read."""
        from minerwatch import tasks
        from minerwatch.pipeline import sec

        return tasks.run(sec.plan_sec_fetches, logical_date, [c for ch in chunks for c in ch])

    @task(outlets=[RAW_SEC], pool=SEC_POOL, map_index_template=CHUNK_LABEL, **NETWORK_RETRIES)
    def extract_sec_company(ciks: list[str], plan: dict, logical_date=None) -> list[dict]:
        import functools

        from minerwatch import tasks
        from minerwatch.pipeline import sec

        label_chunk(ciks)
        fetch = functools.partial(sec.extract_sec_company, plan=plan)
        return tasks.run_each(fetch, logical_date, ciks)

    @task(inlets=[RAW_SEC], outlets=[STAGED_SEC])
    def stage_sec(chunks: list[list[dict]], logical_date=None) -> list[str]:
        from minerwatch import tasks
        from minerwatch.pipeline import sec

        return tasks.run(sec.stage_sec, logical_date, [b for c in chunks for b in c])

    @task(outlets=[RAW_SEC], pool=SEC_POOL, map_index_template=CHUNK_LABEL, **NETWORK_RETRIES)
    def extract_production_updates(ciks: list[str], logical_date=None) -> list[dict]:
        from minerwatch import tasks
        from minerwatch.pipeline import sec

        label_chunk(ciks)
        return tasks.run_each(
            sec.extract_production_updates, logical_date, ciks, prepare=sec.production_context
        )

    @task(inlets=[RAW_SEC], outlets=[STAGED_PRODUCTION])
    def stage_production_updates(batches: list[list[dict]], logical_date=None) -> list[str]:
        from minerwatch import tasks
        from minerwatch.pipeline import sec

        flat = [b for c in batches for b in c]
        return tasks.run(sec.stage_production_updates, logical_date, flat)

    @task(
        inlets=STAGED_ALL,
        outlets=[WAREHOUSE],
        pool=WAREHOUSE_POOL,
        queue=WAREHOUSE_QUEUE,
        multiple_outputs=False,
    )
    def dbt_build() -> dict:
        from minerwatch import warehouse

        return warehouse.build()

    @task(inlets=[WAREHOUSE], pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE, multiple_outputs=False)
    def audit_marts(logical_date=None) -> dict:
        from minerwatch import publish, tasks

        return tasks.run(publish.audit, logical_date)

    @task(
        inlets=[WAREHOUSE],
        outlets=[PUBLISHED],
        pool=WAREHOUSE_POOL,
        queue=WAREHOUSE_QUEUE,
        multiple_outputs=False,
    )
    def publish_marts(logical_date=None) -> dict:
        from minerwatch import publish, tasks

        return tasks.run(publish.publish, logical_date)

    @task(queue=WAREHOUSE_QUEUE, multiple_outputs=False)
    def monthly_report(logical_date=None) -> dict:
        """The month's self-contained HTML report and the claims check, from the published copy."""
        from minerwatch import report, tasks

        return tasks.run(report.build, logical_date)

    @task(queue=WAREHOUSE_QUEUE, multiple_outputs=False)
    def headline(logical_date=None) -> dict:
        from minerwatch import warehouse
        from minerwatch.dates import as_day
        from minerwatch.settings import load

        h = warehouse.headline(as_day(logical_date))
        print(warehouse.format_headline(h, load().warehouse))
        return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in h.items()}

    staged_cm = stage_coinmetrics(extract_coinmetrics())
    staged_mp = stage_mempool_difficulty(extract_mempool_difficulty())
    staged_hashrate = stage_mempool_hashrate(extract_mempool_hashrate())
    staged_pools = stage_mempool_pools(extract_mempool_pools())
    staged_prices = stage_prices(extract_prices.expand(tickers=price_tickers()))
    ciks = check_sec_ciks(extract_sec_company_tickers())
    plan = plan_sec_fetches(ciks)
    staged_sec = stage_sec(extract_sec_company.partial(plan=plan).expand(ciks=ciks))
    production = extract_production_updates.expand(ciks=ciks)
    staged_sec >> production  # discovery reads the filings list staged_sec writes
    staged_production = stage_production_updates(production)
    build = dbt_build()
    staged = [
        staged_cm,
        staged_mp,
        staged_hashrate,
        staged_pools,
        staged_prices,
        staged_sec,
        staged_production,
    ]
    published = staged >> build >> audit_marts() >> publish_marts()
    published >> [monthly_report(), headline()]


minerwatch_daily()
