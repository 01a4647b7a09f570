import datetime as dt

import pytest

from minerwatch import settings as s


def test_every_setting_has_a_working_default():
    cfg = s.load({})
    assert cfg.lake_url == f"file://{s.REPO_ROOT / 'data' / 'lake'}"
    assert cfg.warehouse == s.REPO_ROOT / "data" / "warehouse.duckdb"
    assert cfg.coinmetrics_url == "https://community-api.coinmetrics.io/v4"
    assert cfg.mempool_url == "https://mempool.space/api"
    assert cfg.yahoo_url == "https://query1.finance.yahoo.com"
    assert cfg.sec_data_url == "https://data.sec.gov"
    assert cfg.sec_www_url == "https://www.sec.gov"
    assert cfg.sec_user_agent is None
    assert cfg.history_start == dt.date(2020, 1, 1)
    assert cfg.lake_root == str(s.REPO_ROOT / "data" / "lake")


def test_values_are_read_and_normalised():
    cfg = s.load(
        {
            "MINERWATCH_LAKE_URL": "s3://bucket/prefix/",
            "MINERWATCH_COINMETRICS_URL": "http://127.0.0.1:9/v4/",
            "MINERWATCH_HISTORY_START": "2021-03-04",
            "MINERWATCH_SEC_USER_AGENT": "Jane Doe jane@example.com",
        }
    )
    assert cfg.lake_is_s3 and cfg.lake_root == "s3://bucket/prefix"
    assert cfg.coinmetrics_url == "http://127.0.0.1:9/v4"
    assert cfg.history_start == dt.date(2021, 3, 4)
    assert cfg.sec_user_agent == "Jane Doe jane@example.com"


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("MINERWATCH_LAKE_URL", "ftp://host/x"),
        ("MINERWATCH_LAKE_URL", "file://relative/path"),
        ("MINERWATCH_LAKE_URL", "s3://"),
        ("MINERWATCH_LAKE_URL", "file:///tmp/../etc"),
        ("MINERWATCH_COINMETRICS_URL", "not a url"),
        ("MINERWATCH_MEMPOOL_URL", "mempool.space/api"),
        ("MINERWATCH_YAHOO_URL", "gopher://x"),
        ("MINERWATCH_SEC_DATA_URL", "http://"),
        ("MINERWATCH_SEC_WWW_URL", "www.sec.gov"),
        ("MINERWATCH_HISTORY_START", "2020-13-01"),
        ("MINERWATCH_HISTORY_START", "2008-12-31"),
        ("MINERWATCH_HTTP_TIMEOUT", "-1"),
        ("MINERWATCH_HTTP_MAX_RETRIES", "many"),
    ],
)
def test_invalid_value_is_a_clear_error_naming_the_variable(var, value):
    with pytest.raises(s.SettingsError) as err:
        s.load({var: value})
    assert var in str(err.value)
    assert repr(value) in str(err.value)


def test_warehouse_pointing_at_a_directory_is_refused(tmp_path):
    with pytest.raises(s.SettingsError, match="MINERWATCH_WAREHOUSE"):
        s.load({"MINERWATCH_WAREHOUSE": str(tmp_path)})


def test_api_key_is_not_in_the_repr():
    cfg = s.load({"MINERWATCH_COINMETRICS_API_KEY": "sekret-123"})
    assert cfg.coinmetrics_api_key == "sekret-123"
    assert "sekret-123" not in repr(cfg)
