"""Task bodies of the daily DAG, by domain; the DAG file only wires them together.

- ``network``: Coin Metrics (API, or its published CSV), mempool.space difficulty, daily hash
  rate and mining pools;
- ``market``: prices and splits (Yahoo or FMP) and the market coverage;
- ``sec``: SEC ticker map and CIK check, submissions and company facts, production updates;
- ``staging``: what they share — validate a batch with its GX suite, stage it or quarantine it,
  read earlier partitions, write the coverage rows.

Each domain extracts (lands the sources' answers write-once in the lake) and stages (GX gate,
then one partition per logical date). Every function is keyed on the run's logical date (the
data day), never on ``now()``: running the same date twice lands no new raw objects and writes
the same staged partition. Nothing here imports from the warehouse, publish or report side.
"""
