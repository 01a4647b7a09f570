"""One client per external system. Each lands a source's answers write-once in the lake (raw
bytes plus a request sidecar) and parses landed answers into typed frames; none knows of the
pipeline, the warehouse or the report.

- ``coinmetrics``: Coin Metrics community API (daily network metrics), its published CSV as the
  fallback;
- ``mempool``: mempool.space difficulty retargets and daily hash rate; ``pools``: its mining-pool
  shares and block counts;
- ``yahoo``, ``fmp``: daily prices and splits (Yahoo, or Financial Modeling Prep with a key);
- ``sec``: SEC EDGAR ticker map, submissions, company facts, archive documents; ``production``:
  the monthly production updates found in 8-K/6-K filings and the parser of their figures.

Shared by them: ``base`` (the HTTP client from the settings, the JSON decode, landing a response
with its sidecar) and ``prices`` (the price columns, splits, the as-traded close).
"""
