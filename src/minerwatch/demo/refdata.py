"""A replay recording of the REAL network history kept in ``../shared/refdata`` (Coin Metrics'
published daily file since the genesis day and mempool.space's real retargets), served in the
sources' own API formats, with the market and SEC side from the SAMPLE generator (no real
recording of those ships with the project). Used by ``minerwatch demo --real-network`` and the
real-history tests: the same DAG, the same code paths, real network bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from minerwatch.errors import ConfigurationError

COINMETRICS_CSV = "coinmetrics_btc_2009-01-03_2024-05-31.csv"
MEMPOOL_JSON = "mempool_hashrate_all_2009-01-03_2024-05-31.json"
LAST_DAY = dt.date(2024, 5, 31)  # the files' last day


def default_dir() -> Path:
    from minerwatch.settings import REPO_ROOT

    return REPO_ROOT.parent / "shared" / "refdata"


def difficulty_adjustments(refdata: Path) -> list[list[float]]:
    """The real retargets in ``/api/v1/mining/difficulty-adjustments`` form:
    ``[timestamp, height, difficulty, changeRatio]``, newest first."""
    doc = json.loads((refdata / MEMPOOL_JSON).read_text())
    return [
        [d["time"], d["height"], d["difficulty"], d["adjustment"]]
        for d in sorted(doc["difficulty"], key=lambda d: d["height"], reverse=True)
    ]


def write_recording(
    directory: Path, refdata: Path | None = None, market_end: dt.date = LAST_DAY
) -> Path:
    """Real network files + SAMPLE market and SEC files (generated through ``market_end``)."""
    from minerwatch.demo import sample

    refdata = refdata or default_dir()
    missing = [n for n in (COINMETRICS_CSV, MEMPOOL_JSON) if not (refdata / n).is_file()]
    if missing:
        raise ConfigurationError(
            f"no real network files in {refdata} (missing {', '.join(missing)}): pass the "
            "directory that holds them (--refdata)"
        )
    directory = Path(directory)
    sample_dir = directory / "_sample"
    sample.write_recording(sample_dir, market_end)
    for part in ("yahoo", "sec"):
        shutil.copytree(sample_dir / part, directory / part, dirs_exist_ok=True)
    shutil.rmtree(sample_dir)
    (directory / "coinmetrics").mkdir(parents=True, exist_ok=True)
    (directory / "mempool").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(refdata / COINMETRICS_CSV, directory / "coinmetrics" / "btc.csv")
    (directory / "mempool" / "difficulty-adjustments.json").write_text(
        json.dumps(difficulty_adjustments(refdata))
    )
    # the file is a real /v1/mining/hashrate/all response: the second hash-rate source as is
    shutil.copyfile(refdata / MEMPOOL_JSON, directory / "mempool" / "hashrate-all.json")
    (directory / "REAL_NETWORK_DATA.md").write_text(
        "Network data: REAL (Coin Metrics published daily file and mempool.space retargets, "
        f"from {refdata}). Market prices and SEC filings: SAMPLE data, not real.\n"
    )
    return directory
