"""Great Expectations gates: suites live as GX JSON in ``expectations/``."""

from minerwatch.quality.gx import (
    ValidationOutcome,
    load_suite,
    validate_batches,
    validate_frame,
)

__all__ = ["ValidationOutcome", "load_suite", "validate_batches", "validate_frame"]
