"""The object-storage lake (layout: docs/methodology.md): ``file://`` or ``s3://`` behind one interface.

- ``raw/<source>/<dataset>/ingest_date=YYYY-MM-DD/<sha256>.json`` (+ ``<sha256>.meta.json``)
  is write-once: an existing key is never overwritten, so a re-fetch of the same bytes is a no-op.
  Write-once is the store's own conditional create, not check-then-put: a hard link on a local
  lake, ``PutObject`` with ``If-None-Match: *`` on S3 (the store answers 412 if the key exists).
- ``staged/<source>/<dataset>/logical_date=YYYY-MM-DD/data.parquet``: one partition per logical
  date, replaced whole (and atomically: a reader sees the old file or the new one).
- ``quarantine/<source>/<dataset>/logical_date=YYYY-MM-DD/<batch-hash>/``: rejected batches.

Every key is built from validated parts only (no ``..``, no separators, no odd characters).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from minerwatch.settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

log = logging.getLogger(__name__)

_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.=-]{0,127}$")
_SHA = re.compile(r"^[0-9a-f]{64}$")
RAW_BODY = re.compile(r"^([0-9a-f]{64})\.json$")
CONFLICT_RETRIES = 3  # S3 409 ConditionalRequestConflict: another conditional write in flight


class LakeKeyError(ValueError):
    """A value used in an object key is not safe to use there."""


def key_part(value: str, what: str = "key part") -> str:
    """Return ``value`` if it is safe as one segment of an object key, else raise."""
    if not isinstance(value, str) or not _PART.match(value) or ".." in value:
        raise LakeKeyError(
            f"{what} {value!r} is not allowed in an object key "
            "(letters, digits, '_', '-', '.', '=' only; no '..', no '/')"
        )
    return value


def date_part(name: str, day: dt.date | str) -> str:
    if isinstance(day, str):
        try:
            day = dt.date.fromisoformat(day)
        except ValueError:
            raise LakeKeyError(f"{name} {day!r} is not a YYYY-MM-DD date") from None
    return f"{name}={day.isoformat()}"


@dataclass(frozen=True)
class RawObject:
    key: str
    sha256: str
    created: bool


class Lake:
    """Thin, tested wrapper over an fsspec filesystem rooted at ``settings.lake_url``."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.root = settings.lake_root.rstrip("/")
        if settings.lake_is_s3:
            import s3fs

            kwargs: dict[str, Any] = {"use_listings_cache": False, "skip_instance_cache": True}
            if settings.aws_endpoint_url:
                kwargs["endpoint_url"] = settings.aws_endpoint_url
            self.fs = s3fs.S3FileSystem(**kwargs)
            self.local = False
        else:
            import fsspec

            self.fs = fsspec.filesystem("file")
            self.local = True

    # -- paths -------------------------------------------------------------------------------
    def path(self, key: str) -> str:
        return f"{self.root}/{key}"

    def url(self, key: str) -> str:
        """The URL of ``key`` as a user would open it (file:// or s3://)."""
        return f"{self.settings.lake_url}/{key}"

    # -- primitives --------------------------------------------------------------------------
    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(self.path(key)))

    def read_bytes(self, key: str) -> bytes:
        return self.fs.cat_file(self.path(key))

    def list(self, prefix: str) -> list[str]:
        """Keys below ``prefix`` (recursive), sorted; [] if nothing is there."""
        base = self.path(prefix).rstrip("/")
        try:
            found = self.fs.find(base)
        except FileNotFoundError:
            return []
        root = self.root if self.local else self.root.removeprefix("s3://")
        out = []
        for p in found:
            p = p.removeprefix("s3://")
            rel = p[len(root) + 1 :] if p.startswith(root + "/") else p
            if "/.tmp-" in rel or rel.split("/")[-1].startswith(".tmp-"):
                continue
            out.append(rel)
        return sorted(out)

    def folders(self, prefix: str) -> list[str]:
        """The names of the folders directly below ``prefix``, sorted; [] if nothing is there.
        One listing of that level only (on S3 a LIST with a delimiter), not of every key below:
        the partition dates of a dataset are one name each, whatever each partition holds."""
        try:
            entries = self.fs.ls(self.path(prefix).rstrip("/"), detail=True)
        except FileNotFoundError:
            return []
        names = (
            e["name"].rstrip("/").rsplit("/", 1)[-1] for e in entries if e["type"] == "directory"
        )
        return sorted(n for n in names if not n.startswith(".tmp-"))

    def _put(self, key: str, data: bytes, *, overwrite: bool) -> bool:
        """Write ``data`` at ``key``; return False if it existed and overwrite is off.

        Local: written to a temp file then linked (write-once) or renamed (replace) into place,
        so no partial object is ever visible. S3: one PUT, which is atomic per object; a
        write-once PUT carries ``If-None-Match: *``, so the store itself refuses to replace an
        existing key (HTTP 412) and two concurrent writers cannot both create it — no
        check-then-put window.
        """
        path = self.path(key)
        if self.local:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = os.path.join(os.path.dirname(path), f".tmp-{uuid.uuid4().hex}")
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                if overwrite:
                    os.replace(tmp, path)
                    return True
                try:
                    os.link(tmp, path)
                    return True
                except FileExistsError:
                    return False
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        if overwrite:
            self.fs.pipe_file(path, data)
            return True
        return self._create_s3(path, data)

    def _create_s3(self, path: str, data: bytes) -> bool:
        """Conditional create on S3 (``If-None-Match: *``): True if this call created the
        object, False if the store already held the key (412 Precondition Failed)."""
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                self.fs.pipe_file(path, data, mode="create")
                return True
            except OSError as exc:
                outcome = _conditional_outcome(exc)
                if outcome == "exists":
                    return False
                if outcome == "conflict" and attempt < CONFLICT_RETRIES:
                    # AWS answers 409 ConditionalRequestConflict while another conditional
                    # write of the key is in flight; retrying then meets the winner's 412
                    time.sleep(0.2 * (attempt + 1))
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def create(self, key: str, data: bytes) -> bool:
        """Create the object at ``key`` write-once: True if this call created it, False if the
        key already existed (whatever its bytes; they are left as they were)."""
        return self._put(key, data, overwrite=False)

    def replace(self, key: str, data: bytes) -> None:
        """Replace the object at ``key`` whole (atomically: readers see the old or the new)."""
        self._put(key, data, overwrite=True)

    def delete(self, key: str) -> None:
        self.fs.rm_file(self.path(key))

    # -- raw ---------------------------------------------------------------------------------
    def raw_prefix(self, source: str, dataset: str, ingest_date: dt.date | str) -> str:
        return "/".join(
            [
                "raw",
                key_part(source, "source"),
                key_part(dataset, "dataset"),
                date_part("ingest_date", ingest_date),
            ]
        )

    def put_raw(
        self,
        source: str,
        dataset: str,
        ingest_date: dt.date | str,
        body: bytes,
        meta: dict[str, Any],
    ) -> RawObject:
        """Land a response body write-once under its content hash, with a sidecar."""
        sha = hashlib.sha256(body).hexdigest()
        prefix = self.raw_prefix(source, dataset, ingest_date)
        key = f"{prefix}/{sha}.json"
        if self.exists(key):  # a shortcut only: the creates below are conditional anyway
            log.info("raw object already landed, nothing written: %s", key)
            return RawObject(key=key, sha256=sha, created=False)
        sidecar = dict(meta, sha256=sha, bytes=len(body), key=key)
        # Sidecar first: a visible body always has its metadata beside it. Both are created
        # write-once, so of two concurrent fetches of the same bytes one sidecar and one body
        # land and neither is ever replaced (the bytes are the same: the loser is a no-op).
        self._put(f"{prefix}/{sha}.meta.json", _json_bytes(sidecar), overwrite=False)
        created = self._put(key, body, overwrite=False)
        if created:
            log.info("landed raw object %s (%d bytes)", key, len(body))
        else:
            log.info("raw object landed concurrently by another writer: %s", key)
        return RawObject(key=key, sha256=sha, created=created)

    def raw_keys(self, source: str, dataset: str, ingest_date: dt.date | str) -> list[str]:
        prefix = self.raw_prefix(source, dataset, ingest_date)
        return [k for k in self.list(prefix) if RAW_BODY.match(k.rsplit("/", 1)[-1])]

    def raw_sidecar(self, key: str) -> dict[str, Any]:
        return json.loads(self.read_bytes(key[: -len(".json")] + ".meta.json"))

    # -- staged ------------------------------------------------------------------------------
    def staged_prefix(self, source: str, dataset: str) -> str:
        return "/".join(["staged", key_part(source, "source"), key_part(dataset, "dataset")])

    def staged_key(
        self,
        source: str,
        dataset: str,
        logical_date: dt.date | str,
        partition: dict[str, str] | None = None,
    ) -> str:
        parts = [date_part("logical_date", logical_date)]
        for name, value in (partition or {}).items():
            parts.append(f"{key_part(name, 'partition name')}={key_part(value, name)}")
        return f"{self.staged_prefix(source, dataset)}/{'/'.join(parts)}/data.parquet"

    def write_staged(
        self,
        source: str,
        dataset: str,
        logical_date: dt.date | str,
        df: pd.DataFrame,
        partition: dict[str, str] | None = None,
    ) -> str:
        """Replace the partition of ``logical_date`` (and ``partition``, e.g. a ticker) whole
        with ``df`` (one Parquet file)."""
        key = self.staged_key(source, dataset, logical_date, partition)
        self._put(key, parquet_bytes(df), overwrite=True)
        part_dir = key.rsplit("/", 1)[0]
        for other in self.list(part_dir):
            if other != key:
                self.delete(other)
        log.info("staged %d rows at %s", len(df), key)
        return key

    def staged_partitions(
        self,
        source: str | None = None,
        dataset: str | None = None,
        dates: list[dt.date] | None = None,
    ) -> list[tuple[dt.date, str]]:
        """(logical_date, key) of every staged partition (of one dataset, or of all), oldest
        first; with ``dates``, of those logical dates only (a listing of each date's folder
        instead of the whole dataset: a year of daily runs at 10x is 41,000 price files)."""
        if dates is not None:
            if not (source and dataset):
                raise ValueError("staged_partitions(dates=...) needs the source and dataset")
            base = self.staged_prefix(source, dataset)
            prefixes = [f"{base}/{date_part('logical_date', d)}" for d in sorted(set(dates))]
        else:
            prefixes = [self.staged_prefix(source, dataset) if source and dataset else "staged"]
        out = []
        for prefix in prefixes:
            for key in self.list(prefix):
                m = re.search(r"/logical_date=(\d{4}-\d{2}-\d{2})/(?:[^/]+/)*data\.parquet$", key)
                if m:
                    out.append((dt.date.fromisoformat(m.group(1)), key))
        return sorted(out)

    def partition_dates(self, source: str, dataset: str) -> list[dt.date]:
        """The logical dates a dataset has a partition folder for, oldest first: one listing of
        the dataset's folder (a folder whose write did not finish may hold no file yet)."""
        out = []
        for name in self.folders(self.staged_prefix(source, dataset)):
            m = re.fullmatch(r"logical_date=(\d{4}-\d{2}-\d{2})", name)
            if m:
                out.append(dt.date.fromisoformat(m.group(1)))
        return out

    def newest_partition(
        self, source: str, dataset: str, through: dt.date | None = None
    ) -> tuple[dt.date, list[str]] | None:
        """The newest logical date (on or before ``through``) with a staged partition file, and
        its files' keys, listing the newest date folders only."""
        dates = [
            d for d in self.partition_dates(source, dataset) if through is None or d <= through
        ]
        for day in reversed(dates):
            keys = [key for _, key in self.staged_partitions(source, dataset, dates=[day])]
            if keys:
                return day, keys
        return None

    def newest_partition_date(
        self, source: str, dataset: str, through: dt.date | None = None
    ) -> dt.date | None:
        newest = self.newest_partition(source, dataset, through)
        return newest[0] if newest else None

    def staged_datasets(self) -> list[tuple[str, str]]:
        """(source, dataset) of every folder under ``staged/`` (one folder listing plus one per
        source)."""
        return [(src, ds) for src in self.folders("staged") for ds in self.folders(f"staged/{src}")]

    def read_parquet(self, key: str) -> pd.DataFrame:
        import pandas as pd

        return pd.read_parquet(io.BytesIO(self.read_bytes(key)))

    # -- quarantine --------------------------------------------------------------------------
    def quarantine(
        self,
        source: str,
        dataset: str,
        logical_date: dt.date | str,
        df: pd.DataFrame,
        result: dict[str, Any],
        raw_keys: list[str],
    ) -> str:
        """Keep a rejected batch with its validation result; returns the batch folder key.
        The folder is named by the batch's content hash, so re-quarantining it is a no-op."""
        data = parquet_bytes(df)
        batch = hashlib.sha256(data).hexdigest()[:16]
        prefix = "/".join(
            [
                "quarantine",
                key_part(source, "source"),
                key_part(dataset, "dataset"),
                date_part("logical_date", logical_date),
                batch,
            ]
        )
        self._put(f"{prefix}/batch.parquet", data, overwrite=True)
        self._put(f"{prefix}/raw_keys.json", _json_bytes(raw_keys), overwrite=True)
        self._put(f"{prefix}/validation_result.json", _json_bytes(result), overwrite=True)
        log.error("batch quarantined at %s", self.url(prefix))
        return prefix


def _conditional_outcome(exc: BaseException) -> str | None:
    """'exists' when a conditional create was refused because the key exists (HTTP 412
    PreconditionFailed; s3fs raises FileExistsError only when the store names the condition,
    as AWS does — SeaweedFS does not), 'conflict' for 409 ConditionalRequestConflict, else
    None."""
    if isinstance(exc, FileExistsError):
        return "exists"
    cause = exc.__cause__
    response = getattr(cause, "response", None)
    if not isinstance(response, dict):
        return None
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code == "PreconditionFailed" or status == 412:
        return "exists"
    if code == "ConditionalRequestConflict":
        return "conflict"
    return None


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, indent=2, sort_keys=True, default=str).encode()


def parquet_bytes(df: pd.DataFrame) -> bytes:
    """Deterministic Parquet bytes for ``df`` (same frame → same bytes)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.replace_schema_metadata(None)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", write_statistics=True)
    return buf.getvalue()
