"""Run a GX suite (JSON in ``expectations/``) on a pandas DataFrame with an ephemeral context.

GX's SQL datasource is unreliable on DuckDB (GX issues #10738, #11579), so every batch is
validated as a DataFrame. ``great_expectations`` is imported lazily (it takes ~2.5 s).
"""

from __future__ import annotations

import copy
import json
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from minerwatch.settings import REPO_ROOT

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

log = logging.getLogger(__name__)

EXPECTATIONS_DIR = REPO_ROOT / "expectations"


@dataclass
class ValidationOutcome:
    suite: str
    success: bool
    evaluated: int
    failed: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    # failed expectations of severity "warning" (e.g. the two hash-rate sources drifting apart):
    # logged loudly and reported, never blocking
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> str:
        if self.success:
            return f"suite {self.suite}: all {self.evaluated} expectations passed"
        lines = [f"suite {self.suite}: {len(self.failed)} of {self.evaluated} expectations failed:"]
        for f in self.failed:
            lines.append(f"  - {f['expectation']} {f['kwargs']}: {f['observed']}")
            if f.get("reason"):
                lines.append(f"    why this bound: {f['reason']}")
        return "\n".join(lines)


def load_suite(name: str, directory: Path | None = None) -> dict[str, Any]:
    path = (directory or EXPECTATIONS_DIR) / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"no expectation suite {name!r} at {path}")
    return json.loads(path.read_text())


def _observed(res: dict[str, Any]) -> Any:
    result = res.get("result") or {}
    for key in ("observed_value", "partial_unexpected_list", "unexpected_count"):
        if key in result and result[key] not in (None, []):
            value = result[key]
            if key == "partial_unexpected_list":
                value = {"unexpected_examples": value[:5], "count": result.get("unexpected_count")}
            return value
    exc = res.get("exception_info") or {}
    if exc.get("raised_exception"):
        return f"error: {exc.get('exception_message')}"
    return result


def stable_result(result: dict) -> dict:
    """The validation result without what changes from one run to the next (load time,
    expectation ids), so the same data gives the same bytes."""
    out = copy.deepcopy(result)
    out.get("meta", {}).get("batch_markers", {}).pop("ge_load_time", None)
    for res in out.get("results", []):
        res.get("expectation_config", {}).pop("id", None)
    return out


def validate_frame(df: pd.DataFrame, suite_name: str) -> ValidationOutcome:
    """Validate ``df`` against suite ``suite_name``; never raises on failed expectations."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        from great_expectations.core.expectation_suite import ExpectationSuite
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    spec = load_suite(suite_name)
    # In memory, no usage analytics (no network calls from a task), no progress bars in logs.
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(project_config=config, mode="ephemeral")
    source = context.data_sources.add_pandas(name="minerwatch")
    asset = source.add_dataframe_asset(name=suite_name)
    batch_def = asset.add_batch_definition_whole_dataframe("batch")
    batch = batch_def.get_batch(batch_parameters={"dataframe": df})
    suite = ExpectationSuite(
        name=spec["name"], expectations=spec["expectations"], meta=spec.get("meta", {})
    )
    suite = context.suites.add(suite)
    result = batch.validate(suite, result_format="SUMMARY").to_json_dict()
    failed, warned = [], []
    for res in result["results"]:
        if not res["success"]:
            cfg = res["expectation_config"]
            blocking = cfg.get("severity") not in ("warning", "info")
            (failed if blocking else warned).append(
                {
                    "expectation": cfg["type"],
                    "kwargs": {k: v for k, v in cfg["kwargs"].items() if k != "batch_id"},
                    "observed": _observed(res),
                    "reason": (cfg.get("meta") or {}).get("reason"),
                }
            )
    outcome = ValidationOutcome(
        suite=suite_name,
        success=not failed,
        evaluated=len(result["results"]),
        failed=failed,
        result=result,
        warnings=warned,
    )
    (log.info if outcome.success else log.error)(outcome.summary())
    for w in warned:
        log.warning(
            "suite %s: WARNING %s %s: %s (%s)",
            suite_name,
            w["expectation"],
            w["kwargs"],
            w["observed"],
            w.get("reason") or "",
        )
    return outcome
