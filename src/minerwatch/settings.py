"""The one place that reads the environment.

Every variable (docs/settings.md) has a working default. An invalid value raises
:class:`SettingsError` naming the variable, the value and what is expected.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from minerwatch.errors import ConfigurationError

GENESIS_DATE = dt.date(2009, 1, 3)
# Coin Metrics' published daily file (GitHub coinmetrics/data, csv/btc.csv): the fallback when
# the community API refuses access (HTTP 401/403, e.g. a key is wanted). Same metrics, same days.
COINMETRICS_CSV_URL = "https://raw.githubusercontent.com/coinmetrics/data/master/csv/btc.csv"


# allowed lag, in days, of each source's newest staged day behind the run's date (reasons in
# docs/settings.md; market: behind the newest NYSE trading day on or before the run's date)
MAX_LAG_DAYS = {"coinmetrics": 2, "mempool": 2, "market": 4, "sec": 7}


class SettingsError(ConfigurationError, ValueError):
    """A setting has a value we cannot use: a task fails at once, without retries."""


def _repo_root() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "dbt_project").is_dir():
            return parent
    return Path.cwd()


REPO_ROOT = _repo_root()


def _http_url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(
            f"{name}={value!r} is not an http(s) base URL; expected e.g. {default!r}"
        )
    return value.rstrip("/")


def _lake_url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    parsed = urlparse(value)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost") or not parsed.path.startswith("/"):
            raise SettingsError(
                f"{name}={value!r}: a file:// lake URL needs an absolute path (file:///abs/path)"
            )
    elif parsed.scheme == "s3":
        if not parsed.netloc:
            raise SettingsError(f"{name}={value!r}: an s3:// lake URL needs a bucket name")
    else:
        raise SettingsError(
            f"{name}={value!r} has an unsupported scheme; use file:///abs/path or s3://bucket/prefix"
        )
    if ".." in parsed.path.split("/"):
        raise SettingsError(f"{name}={value!r} must not contain '..' segments")
    return value.rstrip("/")


def _date(env: Mapping[str, str], name: str, default: str) -> dt.date:
    value = env.get(name, "").strip() or default
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise SettingsError(f"{name}={value!r} is not a date; expected YYYY-MM-DD") from None
    if day < GENESIS_DATE:
        raise SettingsError(f"{name}={value!r} is before bitcoin's genesis block (2009-01-03)")
    return day


def _path(env: Mapping[str, str], name: str, default: Path) -> Path:
    value = env.get(name, "").strip()
    path = Path(value).expanduser() if value else default
    if not path.is_absolute():
        path = (Path.cwd() / path).resolve()
    if path.exists() and path.is_dir():
        raise SettingsError(f"{name}={str(path)!r} is a directory; expected a .duckdb file path")
    return path


@dataclass(frozen=True)
class Settings:
    lake_url: str
    warehouse: Path
    coinmetrics_url: str
    mempool_url: str
    yahoo_url: str
    sec_data_url: str
    sec_www_url: str
    sec_user_agent: str | None
    history_start: dt.date
    coinmetrics_api_key: str | None = field(default=None, repr=False)
    market_provider: str = "yahoo"
    fmp_url: str = "https://financialmodelingprep.com"
    fmp_api_key: str | None = field(default=None, repr=False)
    sec_max_rps: float = 10.0
    aws_endpoint_url: str | None = None
    http_timeout_s: float = 30.0
    http_max_retries: int = 5
    http_backoff_s: float = 1.0
    claims_file: Path | None = None
    sample_data: bool = False
    dbt_project_dir: Path = REPO_ROOT / "dbt_project"
    sec_rate_scope: str = "machine"
    sec_rate_state_file: Path = Path(tempfile.gettempdir()) / "minerwatch-sec-rate.state"
    min_coverage: float = 0.75
    coinmetrics_csv_url: str = COINMETRICS_CSV_URL
    max_lag_days: Mapping[str, int] = field(default_factory=lambda: dict(MAX_LAG_DAYS))

    @property
    def lake_root(self) -> str:
        """The lake root as DuckDB/fsspec want it: a local path or s3://bucket/prefix."""
        parsed = urlparse(self.lake_url)
        if parsed.scheme == "file":
            return parsed.path.rstrip("/") or "/"
        return self.lake_url

    @property
    def lake_is_s3(self) -> bool:
        return self.lake_url.startswith("s3://")

    def dbt_env(self) -> dict[str, str]:
        """The variables profiles.yml and the sources read, resolved to their effective values."""
        out = {
            "MINERWATCH_LAKE_URL": self.lake_url,
            "MINERWATCH_LAKE_ROOT": self.lake_root,
            "MINERWATCH_WAREHOUSE": str(self.warehouse),
        }
        if self.aws_endpoint_url:
            out["AWS_ENDPOINT_URL"] = self.aws_endpoint_url
        return out


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    default_lake = f"file://{REPO_ROOT / 'data' / 'lake'}"
    timeout = env.get("MINERWATCH_HTTP_TIMEOUT", "").strip() or "30"
    retries = env.get("MINERWATCH_HTTP_MAX_RETRIES", "").strip() or "5"
    backoff = env.get("MINERWATCH_HTTP_BACKOFF", "").strip() or "1.0"
    try:
        timeout_s = float(timeout)
        if timeout_s <= 0:
            raise ValueError
    except ValueError:
        raise SettingsError(f"MINERWATCH_HTTP_TIMEOUT={timeout!r}: expected seconds > 0") from None
    try:
        max_retries = int(retries)
        if not 0 <= max_retries <= 20:
            raise ValueError
    except ValueError:
        raise SettingsError(
            f"MINERWATCH_HTTP_MAX_RETRIES={retries!r}: expected an integer 0..20"
        ) from None
    try:
        backoff_s = float(backoff)
        if backoff_s < 0:
            raise ValueError
    except ValueError:
        raise SettingsError(f"MINERWATCH_HTTP_BACKOFF={backoff!r}: expected seconds >= 0") from None
    endpoint = env.get("AWS_ENDPOINT_URL", "").strip() or None
    provider = (env.get("MINERWATCH_MARKET_PROVIDER", "").strip() or "yahoo").lower()
    if provider not in ("yahoo", "fmp"):
        raise SettingsError(
            f"MINERWATCH_MARKET_PROVIDER={provider!r}: expected 'yahoo' (no key) or 'fmp' "
            "(Financial Modeling Prep, needs MINERWATCH_FMP_API_KEY)"
        )
    rps = env.get("MINERWATCH_SEC_MAX_RPS", "").strip() or "10"
    try:
        sec_max_rps = float(rps)
        if not 0 < sec_max_rps <= 10:
            raise ValueError
    except ValueError:
        raise SettingsError(
            f"MINERWATCH_SEC_MAX_RPS={rps!r}: expected requests per second in (0, 10] "
            "(SEC fair access allows at most 10)"
        ) from None
    claims = env.get("MINERWATCH_CLAIMS_FILE", "").strip()
    claims_file = Path(claims).expanduser() if claims else None
    if claims_file and not claims_file.is_absolute():
        claims_file = (REPO_ROOT / claims_file).resolve()
    if claims_file and not claims_file.is_file():
        raise SettingsError(
            f"MINERWATCH_CLAIMS_FILE={claims!r}: no such file (a YAML file of published claims; "
            "see claims/README.md)"
        )
    sample = (env.get("MINERWATCH_SAMPLE_DATA", "").strip() or "false").lower()
    if sample not in ("true", "false", "1", "0"):
        raise SettingsError(f"MINERWATCH_SAMPLE_DATA={sample!r}: expected true or false")
    project = env.get("MINERWATCH_DBT_PROJECT_DIR", "").strip()
    dbt_project_dir = Path(project).expanduser().resolve() if project else REPO_ROOT / "dbt_project"
    if not (dbt_project_dir / "dbt_project.yml").is_file():
        raise SettingsError(
            f"MINERWATCH_DBT_PROJECT_DIR={project!r}: no dbt_project.yml in {dbt_project_dir}"
        )
    scope = (env.get("MINERWATCH_SEC_RATE_SCOPE", "").strip() or "machine").lower()
    if scope not in ("machine", "slot"):
        raise SettingsError(
            f"MINERWATCH_SEC_RATE_SCOPE={scope!r}: expected 'machine' (all processes on this "
            "machine share the SEC budget) or 'slot' (each of the sec_api pool's slots gets its "
            "share; for workers on several machines)"
        )
    coverage = env.get("MINERWATCH_MIN_COVERAGE", "").strip() or "0.75"
    try:
        min_coverage = float(coverage)
        if not 0 <= min_coverage <= 1:
            raise ValueError
    except ValueError:
        raise SettingsError(
            f"MINERWATCH_MIN_COVERAGE={coverage!r}: expected a fraction 0..1 (the share of the "
            "tracked miners that must have a market cap for a day to be published)"
        ) from None
    csv_url = env.get("MINERWATCH_COINMETRICS_CSV_URL", "").strip() or COINMETRICS_CSV_URL
    parsed_csv = urlparse(csv_url)
    if (
        parsed_csv.scheme not in ("http", "https")
        or not parsed_csv.netloc
        or not parsed_csv.path.strip("/")
    ):
        raise SettingsError(
            f"MINERWATCH_COINMETRICS_CSV_URL={csv_url!r} is not an http(s) URL of a file; expected "
            f"e.g. {COINMETRICS_CSV_URL!r} (Coin Metrics' published daily CSV, taken when the "
            "community API refuses access with HTTP 401/403)"
        )
    state = env.get("MINERWATCH_SEC_RATE_STATE", "").strip()
    rate_state = Path(state) if state else Path(tempfile.gettempdir()) / "minerwatch-sec-rate.state"
    return Settings(
        lake_url=_lake_url(env, "MINERWATCH_LAKE_URL", default_lake),
        warehouse=_path(env, "MINERWATCH_WAREHOUSE", REPO_ROOT / "data" / "warehouse.duckdb"),
        coinmetrics_url=_http_url(
            env, "MINERWATCH_COINMETRICS_URL", "https://community-api.coinmetrics.io/v4"
        ),
        mempool_url=_http_url(env, "MINERWATCH_MEMPOOL_URL", "https://mempool.space/api"),
        yahoo_url=_http_url(env, "MINERWATCH_YAHOO_URL", "https://query1.finance.yahoo.com"),
        sec_data_url=_http_url(env, "MINERWATCH_SEC_DATA_URL", "https://data.sec.gov"),
        sec_www_url=_http_url(env, "MINERWATCH_SEC_WWW_URL", "https://www.sec.gov"),
        sec_user_agent=secret(env, "MINERWATCH_SEC_USER_AGENT"),
        history_start=_date(env, "MINERWATCH_HISTORY_START", "2020-01-01"),
        coinmetrics_api_key=secret(env, "MINERWATCH_COINMETRICS_API_KEY"),
        market_provider=provider,
        fmp_url=_http_url(env, "MINERWATCH_FMP_URL", "https://financialmodelingprep.com"),
        fmp_api_key=secret(env, "MINERWATCH_FMP_API_KEY"),
        sec_max_rps=sec_max_rps,
        aws_endpoint_url=endpoint,
        http_timeout_s=timeout_s,
        http_max_retries=max_retries,
        http_backoff_s=backoff_s,
        claims_file=claims_file,
        sample_data=sample in ("true", "1"),
        dbt_project_dir=dbt_project_dir,
        sec_rate_scope=scope,
        sec_rate_state_file=rate_state,
        min_coverage=min_coverage,
        coinmetrics_csv_url=csv_url,
        max_lag_days=_max_lag_days(env),
    )


def _max_lag_days(env: Mapping[str, str]) -> dict[str, int]:
    """MINERWATCH_MAX_LAG_DAYS: ``source=days`` pairs; sources not named keep their default."""
    value = env.get("MINERWATCH_MAX_LAG_DAYS", "").strip()
    out = dict(MAX_LAG_DAYS)
    for pair in filter(None, (p.strip() for p in value.split(","))):
        name, _, days = pair.partition("=")
        name = name.strip().lower()
        try:
            lag = int(days)
            if name not in MAX_LAG_DAYS or not 0 <= lag <= 366:
                raise ValueError
        except ValueError:
            raise SettingsError(
                f"MINERWATCH_MAX_LAG_DAYS={value!r}: {pair!r} is not source=days with a source of "
                f"{', '.join(MAX_LAG_DAYS)} and days 0..366 (e.g. 'coinmetrics=2,market=4')"
            ) from None
        out[name] = lag
    return out


def lake_asset_uri(path: str, env: Mapping[str, str] | None = None) -> str:
    """The URI of a lake object for Airflow Assets and lineage: ``<MINERWATCH_LAKE_URL>/<path>``
    (``file:///abs/...`` or ``s3://bucket/prefix/...``). Cheap: the DAG file calls it at parse
    time, so only the lake URL is read, not the whole settings."""
    env = os.environ if env is None else env
    root = _lake_url(env, "MINERWATCH_LAKE_URL", f"file://{REPO_ROOT / 'data' / 'lake'}")
    return f"{root}/{path.strip('/')}"


def warehouse_asset_uri(env: Mapping[str, str] | None = None) -> str:
    """``file:///abs/warehouse.duckdb``: the DuckDB file dbt builds, as an Asset URI."""
    env = os.environ if env is None else env
    value = env.get("MINERWATCH_WAREHOUSE", "").strip()
    path = Path(value).expanduser() if value else REPO_ROOT / "data" / "warehouse.duckdb"
    if not path.is_absolute():
        path = (Path.cwd() / path).resolve()
    return f"file://{path}"


def airflow_defaults(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Airflow settings for the embedded one-machine setup (AIRFLOW_HOME inside the repo,
    SQLite metadata, low parallelism for 2 cores). Applied with setdefault: anything the user
    exported wins."""
    env = os.environ if env is None else env
    home = env.get("AIRFLOW_HOME") or str(REPO_ROOT / ".airflow")
    return {
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "2",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": f"{home}/logs",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        # lineage is opt-in (docs/settings.md): the provider is installed, but emits nothing
        "AIRFLOW__OPENLINEAGE__DISABLED": "True",
    }


def apply_airflow_defaults() -> None:
    for key, value in airflow_defaults().items():
        os.environ.setdefault(key, value)


# Secrets from Airflow connections. Each secret's variable wins; when it is unset the value comes
# from the Airflow connection named here (field: the connection's password, or the extra key
# named, then its login), as docs/settings.md describes.
SECRET_CONNECTIONS = {
    "MINERWATCH_COINMETRICS_API_KEY": ("minerwatch_coinmetrics", "api_key"),
    "MINERWATCH_FMP_API_KEY": ("minerwatch_fmp", "api_key"),
    "MINERWATCH_SEC_USER_AGENT": ("minerwatch_sec", "user_agent"),
}


def secret(env: Mapping[str, str], name: str) -> str | None:
    """The secret ``name``: its variable when set, else its Airflow connection (see
    SECRET_CONNECTIONS): a key is the connection's password (or extra ``api_key``), the SEC user
    agent its extra ``user_agent`` (or login). A value found in a connection is registered with
    Airflow's log masker; the HTTP layer redacts keys from URLs and sidecars either way."""
    value = env.get(name, "").strip()
    if value:
        return value
    conn_id, extra_key = SECRET_CONNECTIONS[name]
    conn = airflow_connection(env, conn_id)
    if conn is None:
        return None
    extra = conn.extra_dejson or {}
    if extra_key == "user_agent":
        found = extra.get(extra_key) or conn.login
    else:
        found = conn.password or extra.get(extra_key)
    value = str(found or "").strip()
    if not value:
        return None
    from airflow.sdk.log import mask_secret

    mask_secret(value, name)
    return value


def airflow_connection(env: Mapping[str, str], conn_id: str):
    """Airflow's connection ``conn_id``, or None. Lazy: Airflow is imported only when
    ``AIRFLOW_CONN_<CONN_ID>`` is set (parsed as a URI or JSON by Airflow's own Connection, as
    Airflow itself reads it), or when Airflow is already loaded (a task, the DAG processor,
    ``dag.test()``) and ``env`` is the process environment: then ``Connection.get`` also finds
    connections in the metadata DB or a secrets backend."""
    import sys

    var = f"AIRFLOW_CONN_{conn_id.upper()}"
    raw = env.get(var, "").strip()
    if not raw and (env is not os.environ or "airflow.sdk" not in sys.modules):
        return None
    try:
        from airflow.sdk import Connection
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError:
        if raw:
            raise SettingsError(
                f"{var} is set but Airflow is not installed to read it; set the MINERWATCH_* "
                "variable instead"
            ) from None
        return None
    if not raw:
        try:
            return Connection.get(conn_id)
        except AirflowNotFoundException:
            return None
    try:
        if raw.startswith("{"):
            return Connection.from_json(raw, conn_id=conn_id)
        return Connection.from_uri(raw, conn_id=conn_id)
    except Exception as exc:  # Airflow's parsers raise several types; the value is a secret
        raise SettingsError(
            f"{var} is not an Airflow connection URI or JSON ({type(exc).__name__}); expected "
            f'e.g. generic://:KEY@ or {{"conn_type": "generic", "password": "KEY"}}'
        ) from None


def run_deadline_enabled(env: Mapping[str, str] | None = None) -> bool:
    """MINERWATCH_RUN_DEADLINE (off by default): whether the DAG carries its late-run deadline.
    Off by default because Airflow 3.3.2's DeadlineAlert breaks `dag.test()` and clearing a run
    (`backfill --reprocess-behavior failed`: TypeError in _recalculate_dagrun_queued_at_deadlines);
    `minerwatch.cli.run_dag` always turns it off."""
    env = os.environ if env is None else env
    value = (env.get("MINERWATCH_RUN_DEADLINE", "").strip() or "off").lower()
    if value not in ("on", "off"):
        raise SettingsError(f"MINERWATCH_RUN_DEADLINE={value!r}: expected on or off")
    return value == "on"
