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
