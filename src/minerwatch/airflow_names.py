"""The Airflow names the DAG and the setup share: pools and the warehouse queue, defined once.

Constants only (no imports): the DAG file imports this at parse time.
"""

# One slot: DuckDB allows one writing process per file, so every warehouse writer runs here.
WAREHOUSE_POOL = "minerwatch_warehouse"
WAREHOUSE_POOL_SLOTS = 1
# On Celery, the one worker that holds the warehouse file (its readers and writers go there).
WAREHOUSE_QUEUE = "warehouse"
# SEC EDGAR requests: with MINERWATCH_SEC_RATE_SCOPE=slot each process spaces its requests by
# SEC_POOL_SLOTS / max_rps seconds, so the pool's slots together stay under SEC's 10/s.
SEC_POOL = "sec_api"
SEC_POOL_SLOTS = 2
# Per-company work (prices, SEC documents) is mapped over CHUNKS of at most this many tickers or
# CIKs, not one task per company: a task instance costs ~0.15 s of bookkeeping in dag.test and
# a process start (~1-2 s) under a real executor, which at 140 companies x 3 mapped tasks
# outweighed the work. 25 keeps the 14-member group in one task per step and ~6 at 10x, so a
# LocalExecutor still runs chunks side by side.
COMPANIES_PER_TASK = 25
