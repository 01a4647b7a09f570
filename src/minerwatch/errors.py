"""Errors a user can meet. Each message says what failed, with which input, and what to do."""


class MinerwatchError(Exception):
    """Base class for errors with a message meant for the person running the pipeline."""


class SourceError(MinerwatchError):
    """A source answered with something we cannot use (HTTP error, malformed or unexpected body)."""


class Definitive(MinerwatchError):
    """Retrying cannot change the answer: the task fails at once, whatever its Airflow retries
    (``minerwatch.tasks.run`` turns it into ``AirflowFailException``)."""


class ConfigurationError(Definitive):
    """Something the user must set before this can run (a missing key or user agent, a setting
    with a value we cannot use)."""


class HttpStatusError(SourceError, Definitive):
    """A source answered with a definitive HTTP status: a 4xx other than 429 (and other than a
    status the source documents as transient, like Yahoo's 401 "Invalid Crumb"). Not retried."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class NoDataError(SourceError):
    """The source answered definitively that it has nothing for this input (a symbol it does not
    list or no longer lists, a company without XBRL facts). Not retried: the answer is landed as
    it came (``raw_key``), the member is reported missing, and the run goes on."""

    def __init__(self, message: str, raw_key: str | None = None, status: int | None = None):
        super().__init__(message)
        self.raw_key = raw_key
        self.status = status


class ValidationFailed(MinerwatchError):
    """A batch failed its Great Expectations suite and was quarantined."""
