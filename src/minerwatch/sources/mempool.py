"""mempool.space mining API: ``/v1/mining/difficulty-adjustments`` (every retarget since genesis).

Each element is ``[timestamp, height, difficulty, change]``; difficulty applies to blocks from
``height`` on. Newest first. Landed write-once like every raw response.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from typing import TYPE_CHECKING

from minerwatch.errors import SourceError
from minerwatch.http import HttpClient
from minerwatch.lake import Lake, RawObject

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from minerwatch.settings import Settings

log = logging.getLogger(__name__)

SOURCE = "mempool"
DATASET = "difficulty_adjustments"
PATH = "/v1/mining/difficulty-adjustments"


def parse(body: bytes, url: str) -> list[list[float]]:
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        start = body[:80].decode("utf-8", "replace")
        raise SourceError(
            f"mempool response from {url} is not valid JSON ({exc}); starts {start!r}"
        ) from None
    if not isinstance(doc, list):
        raise SourceError(f"mempool response from {url} is a {type(doc).__name__}, expected a list")
    for i, item in enumerate(doc):
        if (
            not isinstance(item, list)
            or len(item) < 3
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in item[:4])
        ):
            raise SourceError(
                f"mempool response from {url}: element {i} is {item!r}, expected "
                "[timestamp, height, difficulty, change]"
            )
        if not all(math.isfinite(v) for v in item[:4]):
            raise SourceError(f"mempool response from {url}: element {i} has a non-finite number")
    return doc


def extract(
    settings: Settings, lake: Lake, *, ingest_date: dt.date, client: HttpClient | None = None
) -> list[RawObject]:
    client = client or HttpClient(
        timeout_s=settings.http_timeout_s,
        max_retries=settings.http_max_retries,
        backoff_s=settings.http_backoff_s,
    )
    resp = client.get(f"{settings.mempool_url}{PATH}")
    rows = parse(resp.body, resp.url)
    meta = {
        "source": SOURCE,
        "dataset": DATASET,
        "url": resp.url,
        "params": None,
        "status": resp.status,
        "fetched_at": resp.fetched_at,
        "attempts": resp.attempts,
        "rows": len(rows),
    }
    return [lake.put_raw(SOURCE, DATASET, ingest_date, resp.body, meta)]


def to_frame(pages: list[tuple[str, bytes]]) -> pd.DataFrame:
    """Typed retargets: height, adjusted_at (UTC), difficulty, change_ratio, raw_key."""
    import pandas as pd

    rows = []
    for key, body in pages:
        for item in parse(body, key):
            rows.append(
                {
                    "height": int(item[1]),
                    "adjusted_at": dt.datetime.fromtimestamp(int(item[0]), tz=dt.UTC),
                    "difficulty": float(item[2]),
                    "change_ratio": float(item[3]) if len(item) > 3 else None,
                    "raw_key": key,
                }
            )
    df = pd.DataFrame(
        rows, columns=["height", "adjusted_at", "difficulty", "change_ratio", "raw_key"]
    )
    df = df.drop_duplicates(subset=["height"], keep="last").sort_values("height")
    df["height"] = df["height"].astype("int64")
    df["change_ratio"] = df["change_ratio"].astype("float64")
    return df.reset_index(drop=True)
