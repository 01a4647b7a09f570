"""The package's arrows point down the flow: the sources know nothing of the pipeline, the
warehouse or the report; the pipeline nothing of the warehouse or the report; no production module
imports the demo, and the production image leaves the demo out."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "minerwatch"
PUBLISHING_SIDE = ("warehouse", "publish", "report", "charts", "claims", "docs_site", "cli")


def _imports(path: Path) -> set[str]:
    """Every module a file imports (top level or inside a function), as dotted names."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def _modules(folder: str = "") -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def _within(name: str, *packages: str) -> bool:
    return any(name == f"minerwatch.{p}" or name.startswith(f"minerwatch.{p}.") for p in packages)


@pytest.mark.parametrize("path", _modules("sources"), ids=lambda p: p.name)
def test_a_source_client_imports_no_later_stage_and_no_other_client(path):
    found = _imports(path)
    assert not [m for m in found if _within(m, "pipeline", "quality", *PUBLISHING_SIDE)]
    # the shared kernel and prices module are the only other modules of sources/ it may use
    clients = {
        m.split(".")[2]
        for m in found
        if _within(m, "sources") and m != "minerwatch.sources"
        and not _within(m, "sources.base", "sources.prices")
    }  # fmt: skip
    assert clients <= {path.stem}, f"{path.name} imports the client(s) {sorted(clients)}"


@pytest.mark.parametrize("path", _modules("pipeline"), ids=lambda p: p.name)
def test_the_pipeline_imports_nothing_from_the_publishing_side(path):
    assert not [m for m in _imports(path) if _within(m, *PUBLISHING_SIDE)]


def test_no_production_module_imports_the_demo():
    offenders = {
        p.relative_to(PACKAGE).as_posix(): sorted(m for m in _imports(p) if _within(m, "demo"))
        for p in _modules()
        if "demo" not in p.relative_to(PACKAGE).parts
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_production_image_leaves_the_demo_out():
    ignored = (REPO / ".dockerignore").read_text().split()
    assert "src/minerwatch/demo" in ignored
    assert "COPY --chown=airflow:root src ./src" in (REPO / "Dockerfile").read_text()


def test_the_demo_commands_say_so_where_the_demo_is_not_installed(monkeypatch, tmp_path):
    import importlib.util

    from minerwatch import cli

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "minerwatch.demo" else real(n, *a)
    )
    with pytest.raises(SystemExit, match="production image leaves it out"):
        cli.main(["sample", "--dir", str(tmp_path), "--end", "2024-01-01"])


def test_the_dag_and_the_setup_share_the_pool_names():
    from minerwatch import airflow_names

    dag_file = (REPO / "dags" / "minerwatch_daily.py").read_text()
    assert "from minerwatch.airflow_names import" in dag_file
    for literal in (airflow_names.SEC_POOL, airflow_names.WAREHOUSE_POOL):
        assert f'"{literal}"' not in dag_file
        assert f'"{literal}"' not in (PACKAGE / "cli.py").read_text()
