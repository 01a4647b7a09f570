"""The offline demo — not production code, and not in the production image.

- ``sample``: SAMPLE network data (Coin Metrics CSV, mempool.space bodies) following the protocol;
- ``market``: SAMPLE prices, splits, SEC documents and production updates beside it;
- ``refdata``: a recording of the REAL network history (``../shared/refdata``) with the SAMPLE
  market and SEC side;
- ``replay``: the replay server, which serves a recording at the sources' real paths and formats
  (and injects faults for the tests).

Production modules never import from here; the demo imports from them (protocol, universe,
settings, the NYSE calendar in ``minerwatch.dates``).
"""
