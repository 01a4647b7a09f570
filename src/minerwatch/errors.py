"""Errors a user can meet. Each message says what failed, with which input, and what to do."""


class MinerwatchError(Exception):
    """Base class for errors with a message meant for the person running the pipeline."""


class SourceError(MinerwatchError):
    """A source answered with something we cannot use (HTTP error, malformed or unexpected body)."""


class ConfigurationError(MinerwatchError):
    """Something the user must set before this can run (a missing key or user agent)."""


class ValidationFailed(MinerwatchError):
    """A batch failed its Great Expectations suite and was quarantined."""
