"""Recorded sources: the SAMPLE recording (generated once per session) served by the replay
server, and the real public data in ../shared/refdata."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REFDATA = REPO.parent / "shared" / "refdata"
SAMPLE_END = dt.date(2024, 6, 30)  # covers the fourth halving (by the sample's own heights)


@pytest.fixture(scope="session")
def sample_recording(tmp_path_factory) -> Path:
    from minerwatch.demo import sample

    return sample.write_recording(tmp_path_factory.mktemp("sample"), SAMPLE_END)


@pytest.fixture
def replay(sample_recording, monkeypatch):
    from minerwatch.demo.replay import ReplayServer

    with ReplayServer(sample_recording) as server:
        for k, v in server.env().items():
            monkeypatch.setenv(k, v)
        yield server


@pytest.fixture(scope="session")
def refdata() -> Path:
    if not (REFDATA / "coinmetrics_btc_2023-10_2024-03.csv").exists():
        pytest.skip(f"reference data not found at {REFDATA} (CI has ../shared beside the repo)")
    return REFDATA
