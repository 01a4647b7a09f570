"""One GX run per dataset (issue #15): the batches of all companies are validated together, and
one by one only when the union fails, so a bad company is still found and quarantined alone.
The verdict for each batch must be the one a run on that batch alone gives."""

from __future__ import annotations

import pandas as pd
import pytest

from minerwatch.quality import gx

SUITE = "market_prices_daily"


def prices(ticker: str, days: int = 30, close: float = 10.0) -> pd.DataFrame:
    dates = pd.bdate_range("2024-05-01", periods=days).date
    df = pd.DataFrame(
        {
            "ticker": ticker,
            "date_day": dates,
            "open": close,
            "high": close * 1.02,
            "low": close * 0.98,
            "close": close,
            "adj_close": close,
            "volume": 1000.0,
            "split_ratio": 1.0,
            "close_as_traded": close,
            "raw_key": f"raw/market/prices_daily/{ticker}.json",
            "provider": "yahoo",
        }
    )
    for col in ("ticker", "raw_key", "provider"):
        df[col] = df[col].astype("string")
    return df


@pytest.fixture
def runs(monkeypatch):
    """The GX runs made (each call of validate_frame, which still runs GX for real)."""
    made: list[int] = []
    real = gx.validate_frame

    def counting(df, suite_name, spec=None, quiet=False):
        made.append(len(df))
        return real(df, suite_name, spec=spec, quiet=quiet)

    monkeypatch.setattr(gx, "validate_frame", counting)
    return made


def test_good_batches_pass_in_one_run(runs):
    batches = [(t, prices(t)) for t in ("MARA", "RIOT", "CLSK", "HUT")]
    out = gx.validate_batches(batches, SUITE)
    assert runs == [120]  # one GX run on the union of the four
    assert all(o.success for o in out.values()) and set(out) == {"MARA", "RIOT", "CLSK", "HUT"}
    assert out["RIOT"].result["meta"]["batches"] == ["MARA", "RIOT", "CLSK", "HUT"]


def test_one_bad_company_is_found_alone_with_the_same_verdict(runs):
    bad = prices("RIOT")
    bad.loc[3, "close"] = -1.0
    batches = [("MARA", prices("MARA")), ("RIOT", bad), ("CLSK", prices("CLSK"))]
    out = gx.validate_batches(batches, SUITE)
    assert runs == [90, 30, 30, 30]  # the union failed, then each alone
    assert [t for t, o in out.items() if not o.success] == ["RIOT"]
    alone = gx.validate_frame(bad, SUITE)
    assert out["RIOT"].summary() == alone.summary()


def test_mostly_cannot_hide_a_bad_batch_in_a_big_union(runs):
    # high >= close is allowed to fail on 0.1 % of a batch's rows (mostly 0.999). One bad row in
    # 30 fails that batch alone; in a union of 4,030 rows it would be 0.02 %: the union runs
    # without `mostly`, fails, and the batches are judged alone.
    small = prices("SDIG")
    small.loc[0, "close"] = small.loc[0, "high"] * 1.5
    small.loc[0, "close_as_traded"] = small.loc[0, "close"]
    small.loc[0, "adj_close"] = small.loc[0, "close"]
    big = prices("MARA", days=4000)
    out = gx.validate_batches([("MARA", big), ("SDIG", small)], SUITE)
    assert not gx.validate_frame(small, SUITE).success
    # the suite as written would let the union through: the trap this guards against
    assert gx.validate_frame(pd.concat([big, small], ignore_index=True), SUITE).success
    assert not out["SDIG"].success and out["MARA"].success


def test_an_empty_batch_is_judged_alone(runs):
    empty = prices("BTDR").iloc[0:0]
    out = gx.validate_batches([("MARA", prices("MARA")), ("BTDR", empty)], SUITE)
    assert out["MARA"].success and not out["BTDR"].success
    assert "expect_table_row_count_to_be_between" in out["BTDR"].summary()


def test_a_duplicate_day_inside_one_company_is_a_duplicate_in_the_union(runs):
    dup = pd.concat([prices("WULF"), prices("WULF").iloc[:1]], ignore_index=True)
    out = gx.validate_batches([("MARA", prices("MARA")), ("WULF", dup)], SUITE)
    assert not out["WULF"].success and out["MARA"].success


def test_a_suite_with_an_aggregate_is_validated_batch_by_batch():
    spec = {"name": "x", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}},
        {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "a", "min_value": 0}},
    ]}  # fmt: skip
    assert gx.union_spec(spec) is None
    strict, counts = gx.union_spec(gx.load_suite(SUITE))
    assert counts == {"min_value": 1, "max_value": None}
    assert all("mostly" not in e["kwargs"] for e in strict["expectations"])


def test_every_staged_suite_can_run_as_one_union():
    # the suites stage_each validates per company: none needs the per-batch path
    for suite in ("market_prices_daily", "sec_share_counts", "sec_production_updates"):
        assert gx.union_spec(gx.load_suite(suite)) is not None, suite


def test_a_batch_missing_columns_is_judged_alone(runs):
    # concat would fill the missing columns with nulls, which the between/pair checks skip
    short = prices("RIOT").drop(columns=["volume", "split_ratio"])
    out = gx.validate_batches(
        [("MARA", prices("MARA")), ("RIOT", short), ("HUT", prices("HUT"))], SUITE
    )
    assert out["MARA"].success and out["HUT"].success and not out["RIOT"].success
    assert "expect_table_columns_to_match_set" in out["RIOT"].summary()
    assert runs == [60, 30]  # MARA and HUT together, RIOT alone


def test_batch_names_must_be_unique():
    with pytest.raises(ValueError, match="unique"):
        gx.validate_batches([("MARA", prices("MARA")), ("MARA", prices("MARA"))], SUITE)


def test_a_passing_run_records_basic_results_a_failing_one_summary():
    # the unexpected values' counts and row indexes are computed only when something failed
    # (a second run with SUMMARY); a passing run still records what it found
    ok = gx.validate_frame(prices("MARA"), SUITE)
    assert ok.success
    found = [r["result"] for r in ok.result["results"]]
    assert any("observed_value" in r or "unexpected_count" in r for r in found)
    assert not any("partial_unexpected_counts" in r for r in found)
    bad = prices("MARA")
    bad.loc[3, "close"] = -1.0
    failed = gx.validate_frame(bad, SUITE)
    assert not failed.success
    details = [r["result"] for r in failed.result["results"] if not r["success"]]
    assert details and all("partial_unexpected_index_list" in r for r in details)
    assert any(3 in r["partial_unexpected_index_list"] for r in details)
