"""The Coin Metrics gate's block heights from the compacted record (network.BlockHeights): the
same heights as reading every earlier partition, on the real history across the April 2024
halving, with one record read per daily run; and the ways a record can go stale (a rerun that
revises an older day, also one failing after its write, a partition written without its
record, an out-of-order backfill, a record that does not add up) fall back to the partitions.
Not covered: a backfill writing a later record while a rerun rewrites an earlier partition."""

import csv
import datetime as dt
import json

import pandas as pd
import pytest

from minerwatch import protocol
from minerwatch.lake import Lake
from minerwatch.pipeline import network
from minerwatch.settings import load
from minerwatch.sources import coinmetrics

GENESIS_CSV = "coinmetrics_btc_2009-01-03_2024-05-31.csv"
HALVING_HEIGHT = 4 * protocol.HALVING_INTERVAL  # the fourth halving, April 2024


@pytest.fixture(scope="module")
def real_rows(refdata):
    with open(refdata / GENESIS_CSV, newline="") as fh:
        return {dt.date.fromisoformat(r["time"]): r for r in csv.DictReader(fh)}


def _page(rows) -> bytes:
    """The rows as a Coin Metrics API page (its JSON shape: refdata/formats)."""
    items = [
        {
            "asset": "btc",
            "time": r["time"] + "T00:00:00.000000000Z",
            **{m: r[m] for m in coinmetrics.METRICS if r.get(m, "") != ""},
        }
        for r in rows
    ]
    return json.dumps({"data": items}).encode()


def _days(start, end):
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


class Reads:
    """Counts the staged Parquet files read."""

    def __init__(self, monkeypatch):
        self.keys = []
        original = Lake.read_parquet

        def counting(lake, key):
            self.keys.append(key)
            return original(lake, key)

        monkeypatch.setattr(Lake, "read_parquet", counting)

    def of(self, dataset):
        return [k for k in self.keys if f"/{dataset}/" in k]


def _full(lake, day):
    """What reading every earlier partition gives (the code before the record)."""
    return network.BlockHeights.from_history(network.prior_network_history(lake, day))


def test_daily_runs_across_the_real_halving_read_one_record(env, real_rows, monkeypatch):
    lake = Lake(load())
    cold, last_day = dt.date(2024, 4, 14), dt.date(2024, 4, 24)
    history = [real_rows[d] for d in sorted(real_rows) if d <= cold]
    key = lake.put_raw(coinmetrics.SOURCE, coinmetrics.DATASET, cold, _page(history), {}).key
    network.stage_coinmetrics(cold, [key])
    reads = Reads(monkeypatch)
    for day in _days(cold + dt.timedelta(days=1), last_day):
        # each run's window: the last OVERLAP_DAYS staged days again, then the new day
        window = [real_rows[d] for d in _days(day - dt.timedelta(days=network.OVERLAP_DAYS), day)]
        key = lake.put_raw(coinmetrics.SOURCE, coinmetrics.DATASET, day, _page(window), {}).key
        reads.keys.clear()
        # the gate checks each day's issuance against the subsidy at its heights: a height off
        # by one block on the halving day (840,000) would fail it
        network.stage_coinmetrics(day, [key])
        assert reads.of(coinmetrics.DATASET) == [], "no earlier partition read"
        assert len(reads.of(network.HEIGHTS)) == 1
        first = day - dt.timedelta(days=network.OVERLAP_DAYS)
        full = _full(lake, day)
        record, _, _ = network.prior_block_heights(lake, day, first - dt.timedelta(days=1))
        assert record.height_through(first - dt.timedelta(days=1)) == full.height_through(
            first - dt.timedelta(days=1)
        )
    # the daily runs crossed the halving (block 840,000): their gate's issuance check held
    final = _full(lake, dt.date(2024, 4, 26))
    assert final.height_through(cold) < HALVING_HEIGHT <= final.height_through(last_day)
    # the record keeps a tail, not the history: its size does not grow with the lake
    last = lake.staged_partitions(coinmetrics.SOURCE, network.HEIGHTS)[-1][1]
    assert len(lake.read_parquet(last)) == network.HEIGHTS_TAIL_DAYS + 1


# -- the bookkeeping, on partitions written directly (real rows, windows of 8 days) ----------
START = dt.date(2024, 3, 1)


def _frame(real_rows, day, revise=None):
    """The partition a run of ``day`` stages: its window, ``revise`` adding blocks to days."""
    rows = []
    for d in _days(day - dt.timedelta(days=network.OVERLAP_DAYS), day):
        r = real_rows[d]
        rows.append({"date_day": d, "BlkCnt": float(r["BlkCnt"]) + (revise or {}).get(d, 0)})
    return pd.DataFrame(rows)


def _run(lake, day, frame, record=True):
    """What stage_coinmetrics does with the heights around writing its partition."""
    first = frame["date_day"].min()
    heights, keys, reads = network.prior_block_heights(lake, day, first - dt.timedelta(days=1))
    network.drop_block_heights_from(lake, day)
    key = lake.write_staged(coinmetrics.SOURCE, coinmetrics.DATASET, day, frame)
    if record:
        network.record_block_heights(lake, day, heights.applied(frame), [*keys, key])
    return reads


@pytest.fixture
def daily_lake(env, real_rows):
    """A genesis partition, then ten daily runs each with its record."""
    lake = Lake(load())
    base = START - dt.timedelta(days=1)
    genesis = pd.DataFrame(
        {"date_day": d, "BlkCnt": float(real_rows[d]["BlkCnt"])}
        for d in sorted(real_rows)
        if d <= base
    )
    _run(lake, base, genesis)
    for day in _days(START, START + dt.timedelta(days=9)):
        assert _run(lake, day, _frame(real_rows, day)) == 0
    return lake


def _agree(lake, day):
    reach = day - dt.timedelta(days=network.OVERLAP_DAYS + 1)
    record, _, reads = network.prior_block_heights(lake, day, reach)
    full = _full(lake, day)
    for d in _days(reach, day - dt.timedelta(days=1)):
        assert record.height_through(d) == full.height_through(d), d
        assert record.has_day(d) == full.has_day(d)
    return reads, full


def test_a_rerun_revising_an_older_day_voids_the_later_records(daily_lake, real_rows):
    end = START + dt.timedelta(days=10)
    _, before = _agree(daily_lake, end)
    rerun = START + dt.timedelta(days=3)
    oldest = rerun - dt.timedelta(days=network.OVERLAP_DAYS)  # only that run's window has it
    _run(daily_lake, rerun, _frame(real_rows, rerun, revise={oldest: 1}))
    reads, after = _agree(daily_lake, end)
    assert after.height_through(end - dt.timedelta(days=1)) == (
        before.height_through(end - dt.timedelta(days=1)) + 1
    )  # the revision counts: the comparison is not vacuous
    assert reads == 6  # the rerun's own record, then the six partitions after it


def test_a_partition_without_its_record_is_read_on_top(daily_lake, real_rows):
    day = START + dt.timedelta(days=10)
    _run(daily_lake, day, _frame(real_rows, day), record=False)  # failed after the write
    reads, _ = _agree(daily_lake, day + dt.timedelta(days=1))
    assert reads == 1


def test_a_rerun_failing_after_its_write_leaves_no_stale_record(daily_lake, real_rows):
    # the newest date run again with a revised day, failing between its partition and its
    # record: the old record of that date (same keys, old rows) must not be used
    end = START + dt.timedelta(days=10)
    _, before = _agree(daily_lake, end)
    rerun = START + dt.timedelta(days=9)
    oldest = rerun - dt.timedelta(days=network.OVERLAP_DAYS)
    _run(daily_lake, rerun, _frame(real_rows, rerun, revise={oldest: 5}), record=False)
    reads, after = _agree(daily_lake, end)
    assert after.height_through(end - dt.timedelta(days=1)) == (
        before.height_through(end - dt.timedelta(days=1)) + 5
    )
    assert reads == 1  # the record before it, then the rewritten partition


def test_a_partition_inserted_before_a_record_voids_it(daily_lake, real_rows):
    # a backfill's partition dated before the newest record, written without touching records
    # (a run that failed after its write): the newest record no longer summarises what is staged
    lake = daily_lake
    inserted = START - dt.timedelta(days=200)
    frame = _frame(real_rows, inserted, revise={inserted - dt.timedelta(days=1): 2})
    lake.write_staged(coinmetrics.SOURCE, coinmetrics.DATASET, inserted, frame)
    reads, full = _agree(lake, START + dt.timedelta(days=10))
    assert reads == 12  # every partition: the genesis one, the insert, ten daily runs


def test_a_record_that_does_not_add_up_is_not_used(daily_lake):
    lake = daily_lake
    day, key = lake.staged_partitions(coinmetrics.SOURCE, network.HEIGHTS)[-1]
    record = lake.read_parquet(key)
    record.loc[record.index[-1], "block_height"] += 5
    lake.write_staged(coinmetrics.SOURCE, network.HEIGHTS, day, record)
    reads, _ = _agree(lake, day + dt.timedelta(days=1))
    assert reads == 11


def test_a_window_reaching_into_the_compacted_base_reads_the_partitions(daily_lake):
    day = START + dt.timedelta(days=10)
    reach = day - dt.timedelta(days=network.HEIGHTS_TAIL_DAYS + 5)
    heights, _, reads = network.prior_block_heights(daily_lake, day, reach)
    assert reads == 11
    assert heights.height_through(reach) == _full(daily_lake, day).height_through(reach)
