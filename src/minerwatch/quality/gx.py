"""Run a GX suite (JSON in ``expectations/``) on a pandas DataFrame with an ephemeral context.

GX's SQL datasource is unreliable on DuckDB (GX issues #10738, #11579), so every batch is
validated as a DataFrame. ``great_expectations`` is imported lazily (it takes ~2.5 s).
"""

from __future__ import annotations

import collections
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


def validate_frame(
    df: pd.DataFrame, suite_name: str, spec: dict[str, Any] | None = None, quiet: bool = False
) -> ValidationOutcome:
    """Validate ``df`` against suite ``suite_name`` (or the suite ``spec`` given); never raises
    on failed expectations. ``quiet``: a run whose failure is followed by other runs (the union
    of batches, about to fall back to one run per batch): its failure is logged at INFO and not
    detailed (no second run with SUMMARY, below)."""
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
    spec = spec or load_suite(suite_name)
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
    # BASIC holds what a passing run has to record (observed values, counts, up to 20
    # unexpected values); SUMMARY adds the counts and row indexes of the unexpected values,
    # metrics of their own (~30 % of the audit's suites' time) that only a failure needs: a
    # run with a failed expectation is validated again with SUMMARY, same verdict, for the record
    result = batch.validate(suite, result_format="BASIC").to_json_dict()
    if not quiet and not all(res["success"] for res in result["results"]):
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
    (log.info if outcome.success or quiet else log.error)(outcome.summary())
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


# Expectations whose verdict on a union of batches implies the verdict on each batch (every row
# is checked on its own, or uniqueness on a key that includes the batch's partition column, so a
# duplicate inside one batch is a duplicate in the union). Aggregates (means, medians, sums,
# distinct counts) are not: a suite with one is validated batch by batch.
ROW_WISE = {
    "expect_table_columns_to_match_set",
    "expect_table_columns_to_match_ordered_list",
    "expect_column_to_exist",
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null",
    "expect_column_values_to_be_between",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
    "expect_column_value_lengths_to_be_between",
    "expect_column_pair_values_a_to_be_greater_than_b",
    "expect_column_pair_values_to_be_equal",
    "expect_compound_columns_to_be_unique",
    "expect_table_row_count_to_be_between",  # checked per batch in Python, see union_spec
}


def union_spec(spec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The suite to run once on the union of several batches, and the per-batch row-count bounds
    it leaves out; None when the suite has an expectation a union cannot answer for each batch.

    Stricter than the suite, never looser: ``mostly`` is dropped (a union passing at 100 % means
    each batch passes at 100 %; a union passing at 99.9 % could hide one batch far below), and the
    row-count bounds are checked on each batch apart (a union has more rows than any batch)."""
    kept, counts = [], {}
    for exp in spec["expectations"]:
        if exp["type"] not in ROW_WISE:
            return None
        if exp["type"] == "expect_table_row_count_to_be_between":
            counts = {k: exp["kwargs"].get(k) for k in ("min_value", "max_value")}
            continue
        kwargs = {k: v for k, v in exp["kwargs"].items() if k != "mostly"}
        kept.append({**exp, "kwargs": kwargs})
    return {**spec, "expectations": kept}, counts


def _shape(frame: pd.DataFrame) -> tuple[tuple[str, str], ...]:
    return tuple((str(c), str(t)) for c, t in frame.dtypes.items())


def _count_ok(n: int, bounds: dict[str, Any]) -> bool:
    low, high = bounds.get("min_value"), bounds.get("max_value")
    return (low is None or n >= low) and (high is None or n <= high)


def validate_batches(
    batches: list[tuple[str, pd.DataFrame]], suite_name: str
) -> dict[str, ValidationOutcome]:
    """Validate several batches of one dataset (one per company) with ONE GX run on their union,
    falling back to one run per batch only when the union fails (so one bad company is still
    found, and quarantined, alone). The verdict per batch equals :func:`validate_frame`'s: the
    union runs a stricter suite (:func:`union_spec`), and any doubt goes to the per-batch runs.

    Returns each batch's outcome by name. A batch that passed in the union gets an outcome
    whose ``result`` is the union's (``meta.batches`` lists the names)."""
    import pandas as pd

    names = [n for n, _ in batches]
    if len(set(names)) != len(names):
        raise ValueError(f"batch names must be unique: {sorted(names)}")
    spec = load_suite(suite_name)
    plan = union_spec(spec) if len(batches) > 1 else None
    alone = list(batches)
    outcomes: dict[str, ValidationOutcome] = {}
    if plan is not None:
        strict, counts = plan
        # only batches with the same columns and types (the most common shape): pd.concat fills
        # a missing column with nulls and widens types, which the union's checks would then pass
        shape = collections.Counter(_shape(f) for _, f in batches).most_common(1)[0][0]
        fits = [_count_ok(len(f), counts) and _shape(f) == shape for _, f in batches]
        together = [b for b, ok in zip(batches, fits, strict=True) if ok]
        alone = [b for b, ok in zip(batches, fits, strict=True) if not ok]
        if len(together) > 1:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # concat of all-NA columns
                union = pd.concat([f for _, f in together], ignore_index=True)
            outcome = validate_frame(union, suite_name, spec=strict, quiet=True)
            if outcome.success:
                outcome.result.setdefault("meta", {})["batches"] = [n for n, _ in together]
                log.info(
                    "suite %s: %d batches (%d rows) passed in one run",
                    suite_name,
                    len(together),
                    len(union),
                )
                for name, _ in together:
                    outcomes[name] = ValidationOutcome(
                        suite=suite_name,
                        success=True,
                        evaluated=outcome.evaluated,
                        result=outcome.result,
                        warnings=outcome.warnings,
                    )
            else:
                log.info(
                    "suite %s: the union of %d batches failed; validating each alone to find "
                    "the bad one(s)",
                    suite_name,
                    len(together),
                )
                alone = list(batches)
        else:
            alone = list(batches)
    for name, frame in alone:
        outcomes[name] = validate_frame(frame, suite_name, spec=spec)
    return outcomes
