"""Blob storage: the files behind the database rows (uploads, job outputs), on local disk or S3.

The database stays the source of truth for metadata; a blob is the bytes a row points at. With one
process the blobs live in a directory (`HYGEIA_BLOB_DIR`, default `var/blobs`); with API pods and
workers on different machines they live in an S3-compatible object store (`HYGEIA_BLOB_BACKEND=s3`),
so a file uploaded to one pod is read by the worker that scores it and the pod that serves it.

Both backends keep one contract, tested by the same suite:
- keys are relative paths of plain names (`tenants/<tenant>/…`); `..`, empty parts, absolute paths
  and odd characters are refused before any I/O, so a key can never leave the store;
- writes stream (no whole-file buffering) and commit at the end: readers see the old object or the
  whole new one, never half (a renamed temporary file locally; a single PUT or a completed multipart
  upload on S3);
- reads stream; `local_copy` gives a real file for libraries that need a path (zip, pandas' sniffing);
- deleting a missing key is not an error, so retention and job deletion can run twice.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tarfile
import tempfile
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, BinaryIO

from prometheus_client import Counter

from hygeia.settings import Settings, get_settings

_KEY_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._\-]{0,127}")  # fullmatch: no "\n" slips past "$"
MAX_KEY_CHARS = 512
COPY_CHUNK = 1024 * 1024
SPOOL_BYTES = 8 * 1024 * 1024  # an S3 write stays in memory up to this size, then spills to disk

BLOB_ERRORS = Counter(
    "hygeia_blob_errors_total", "Blob store operations that failed (disk or object store)", ["operation"]
)


class BlobNotFound(LookupError):
    """No object under this key (never written, deleted, or purged by retention)."""


class InvalidBlobKey(ValueError):
    """A key that could name something outside the store, or that no backend stores the same way."""


class BlobStoreError(RuntimeError):
    """The store itself failed (disk full, bucket unreachable, credentials refused)."""


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    modified: datetime  # timezone-aware UTC
    version: str  # changes whenever the object is rewritten (mtime+size locally, ETag on S3)


def check_key(key: str) -> str:
    """The key itself, or InvalidBlobKey: a relative path of safe names, no `.`/`..`, no empty part."""
    if not key or len(key) > MAX_KEY_CHARS or not all(_KEY_PART.fullmatch(part) for part in key.split("/")):
        raise InvalidBlobKey(f"not a valid blob key: {key[:80]!r}")
    return key


def check_prefix(prefix: str) -> str:
    """A folder-like prefix (`a/b/`): listing or deleting `a/b` must never touch `a/bc`."""
    if not prefix.endswith("/"):
        raise InvalidBlobKey(f"a blob prefix ends with '/': {prefix[:80]!r}")
    check_key(prefix[:-1])
    return prefix


def tenant_prefix(tenant_id: str) -> str:
    """Everything a tenant owns lives under this prefix, so deleting the tenant is one call."""
    return check_prefix(f"tenants/{tenant_id}/")


def tenant_key(tenant_id: str, *parts: str) -> str:
    """A key inside the tenant's prefix, every part checked (ids come from users' URLs)."""
    return check_key("/".join((f"tenants/{tenant_id}", *parts)))


SHARED_PREFIX = "shared/"  # derived platform data every node reads (the evidence index); no tenant's


def shared_key(*parts: str) -> str:
    """A key for data no tenant owns, built from what every tenant uses; backups skip it (rebuildable)."""
    return check_key("/".join(("shared", *parts)))


def shared_between_nodes(settings: Settings) -> bool:
    """Whether other machines read this store: S3, or a directory named apart from the var dir (a
    ReadWriteMany volume). The embedded default (`<var_dir>/blobs`) is this machine's alone."""
    return settings.blob_backend == "s3" or settings.blob_dir is not None


class BlobStore(ABC):
    """One interface for both backends; callers never see a path on the server or a bucket name."""

    backend: str

    @abstractmethod
    def open_write(self, key: str) -> AbstractContextManager[IO[bytes]]:
        """Context manager yielding a binary file; the object appears whole when the block ends."""

    @abstractmethod
    def open_read(self, key: str) -> AbstractContextManager[IO[bytes]]:
        """Context manager yielding a readable binary stream; BlobNotFound if the key is absent."""

    @abstractmethod
    def local_copy(self, key: str) -> AbstractContextManager[Path]:
        """Context manager yielding a local file path with the object's bytes (read it, never write)."""

    @abstractmethod
    def stat(self, key: str) -> BlobInfo | None: ...

    @abstractmethod
    def list(self, prefix: str) -> Iterator[BlobInfo]: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def check(self) -> str | None:
        """None when the store can be written now, else why not (for /ready and start-up)."""

    def put(self, key: str, source: bytes | BinaryIO | IO[bytes] | Path) -> int:
        """Store bytes, a readable binary stream or a local file, streamed in chunks; returns the size."""
        with self.open_write(key) as target:
            if isinstance(source, bytes):
                target.write(source)
                return len(source)
            if isinstance(source, Path):
                with source.open("rb") as handle:
                    return _copy(handle, target)
            return _copy(source, target)

    def read_bytes(self, key: str) -> bytes:
        """For small objects only (manifests, summaries); stream anything a user can make large."""
        with self.open_read(key) as handle:
            return bytes(handle.read())

    def delete_older_than(self, prefix: str, cutoff: datetime) -> int:
        """Retention: delete objects under the prefix last written before the cutoff; returns the count."""
        cutoff = cutoff if cutoff.tzinfo else cutoff.replace(tzinfo=UTC)
        stale = [info.key for info in self.list(prefix) if info.modified < cutoff]
        for key in stale:
            self.delete(key)
        return len(stale)

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under a folder-like prefix; returns how many were removed."""
        keys = [info.key for info in self.list(check_prefix(prefix))]
        for key in keys:
            self.delete(key)
        return len(keys)


def _copy(source: IO[bytes] | BinaryIO, target: IO[bytes]) -> int:
    total = 0
    while chunk := source.read(COPY_CHUNK):
        target.write(chunk)
        total += len(chunk)
    return total


@contextmanager
def _counted(operation: str) -> Iterator[None]:
    """Failures of the store itself are counted (object store alert) and raised as BlobStoreError."""
    try:
        yield
    except (BlobNotFound, InvalidBlobKey):
        raise
    except FileNotFoundError as exc:
        raise BlobNotFound(operation) from exc
    except OSError as exc:
        BLOB_ERRORS.labels(operation).inc()
        raise BlobStoreError(f"blob store {operation} failed: {exc.strerror or type(exc).__name__}") from exc


class LocalBlobStore(BlobStore):
    """A directory tree: the embedded default, and the shared-volume (ReadWriteMany) option."""

    backend = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    @contextmanager
    def open_write(self, key: str) -> Iterator[IO[bytes]]:
        path = self._path(key)
        with _counted("write"):
            path.parent.mkdir(parents=True, exist_ok=True)
        # a dot name is never a valid key, so listings skip files still being written
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
        try:
            with _counted("write"):
                handle = partial.open("wb")
            with handle:
                yield handle
            with _counted("write"):
                partial.replace(path)  # atomic within one filesystem: readers see old or new
        finally:
            partial.unlink(missing_ok=True)

    @contextmanager
    def open_read(self, key: str) -> Iterator[IO[bytes]]:
        with _counted("read"):
            handle = self._path(key).open("rb")
        with handle:
            yield handle

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        path = self._path(key)
        if not path.is_file():
            raise BlobNotFound(key)
        yield path

    def stat(self, key: str) -> BlobInfo | None:
        try:
            status = self._path(key).stat()
        except FileNotFoundError:
            return None
        return _local_info(key, status)

    def list(self, prefix: str) -> Iterator[BlobInfo]:
        folder = self._path(check_prefix(prefix)[:-1])
        if not folder.is_dir():
            return
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(self.root).as_posix()
            if path.is_file() and all(_KEY_PART.fullmatch(part) for part in relative.split("/")):
                yield _local_info(relative, path.stat())

    def delete(self, key: str) -> None:
        with _counted("delete"):
            self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> int:
        removed = super().delete_prefix(prefix)
        folder = self._path(check_prefix(prefix)[:-1])
        shutil.rmtree(folder, ignore_errors=True)  # empty folders (and stale .partial files) too
        return removed

    def check(self) -> str | None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return f"cannot create the blob directory: {exc.strerror}"
        return None if os.access(self.root, os.W_OK) else "the blob directory is not writable"


def _local_info(key: str, status: os.stat_result) -> BlobInfo:
    modified = datetime.fromtimestamp(status.st_mtime, tz=UTC)
    return BlobInfo(key, status.st_size, modified, f"{status.st_mtime_ns}-{status.st_size}")


class _BodyStream(io.RawIOBase):
    """botocore's StreamingBody as a real io stream, so gzip, csv and pandas read it in chunks."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._body.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self._body.close()
        super().close()


class S3BlobStore(BlobStore):
    """Any S3-compatible object store (AWS S3, MinIO, Ceph RGW, moto) through boto3."""

    backend = "s3"

    def __init__(self, settings: Settings) -> None:
        try:
            import boto3
            from boto3.s3.transfer import TransferConfig
            from botocore.config import Config
        except ImportError as exc:  # boto3 is the optional `s3` extra
            raise BlobStoreError("HYGEIA_BLOB_BACKEND=s3 needs boto3: pip install 'hygeia[s3]'") from exc
        self.bucket = settings.s3_bucket
        self.prefix = settings.s3_prefix.strip("/") + "/" if settings.s3_prefix.strip("/") else ""
        secret = settings.s3_secret_access_key
        self.client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url or None,
            region_name=settings.s3_region or None,
            # unset: boto3's own chain (AWS_* variables, web identity / IRSA, instance profile)
            aws_access_key_id=settings.s3_access_key_id or None,
            aws_secret_access_key=(secret.get_secret_value() if secret is not None else "") or None,
            config=Config(
                retries={"max_attempts": 5, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
                s3={"addressing_style": settings.s3_addressing_style},
            ),
        )
        # at most 4 parts of 8 MiB in memory per transfer (boto3's default of 10 held +110 MiB for a
        # 256 MiB upload, measured); the part size stays boto3's, so objects up to ~80 GB fit
        self.transfer = TransferConfig(max_concurrency=4)
        self.transfer.max_in_memory_upload_chunks = 4  # s3transfer's knob; boto3's __init__ lacks it
        self.transfer.max_in_memory_download_chunks = 4

    def _full(self, key: str) -> str:
        return self.prefix + check_key(key)

    @contextmanager
    def _calling(self, operation: str, key: str = "") -> Iterator[None]:
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "404", "NotFound"):
                raise BlobNotFound(key) from exc
            BLOB_ERRORS.labels(operation).inc()
            raise BlobStoreError(f"object store {operation} failed: {code or 'error'}") from exc
        except (BotoCoreError, S3UploadFailedError) as exc:
            BLOB_ERRORS.labels(operation).inc()
            raise BlobStoreError(f"object store {operation} failed: {type(exc).__name__}") from exc

    @contextmanager
    def open_write(self, key: str) -> Iterator[IO[bytes]]:
        full = self._full(key)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            yield spool
            spool.seek(0)
            with self._calling("write", key):  # one PUT or a completed multipart upload: atomic
                self.client.upload_fileobj(spool, self.bucket, full, Config=self.transfer)

    @contextmanager
    def open_read(self, key: str) -> Iterator[IO[bytes]]:
        with self._calling("read", key):  # also a connection lost halfway through the body
            body = self.client.get_object(Bucket=self.bucket, Key=self._full(key))["Body"]
            with io.BufferedReader(_BodyStream(body), buffer_size=COPY_CHUNK) as stream:
                yield stream

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="hygeia-blob-") as folder:
            path = Path(folder) / key.rsplit("/", 1)[-1]  # keeps the suffix readers sniff (.zip, .xml)
            with self._calling("read", key), path.open("wb") as handle:
                self.client.download_fileobj(self.bucket, self._full(key), handle, Config=self.transfer)
            yield path

    def stat(self, key: str) -> BlobInfo | None:
        try:
            with self._calling("stat", key):
                head = self.client.head_object(Bucket=self.bucket, Key=self._full(key))
        except BlobNotFound:
            return None
        return BlobInfo(key, int(head["ContentLength"]), head["LastModified"], str(head["ETag"]))

    def list(self, prefix: str) -> Iterator[BlobInfo]:
        paginator = self.client.get_paginator("list_objects_v2")
        full = self.prefix + check_prefix(prefix)
        with self._calling("list"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                for item in page.get("Contents", []):
                    key = item["Key"][len(self.prefix) :]
                    yield BlobInfo(key, int(item["Size"]), item["LastModified"], str(item["ETag"]))

    def delete(self, key: str) -> None:
        with self._calling("delete", key):
            self.client.delete_object(Bucket=self.bucket, Key=self._full(key))

    def delete_prefix(self, prefix: str) -> int:
        """Batches of up to 1,000 keys per request (the S3 limit), not one request per object."""
        keys = [self.prefix + info.key for info in self.list(prefix)]
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            with self._calling("delete"):
                answer = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            if answer.get("Errors"):
                BLOB_ERRORS.labels("delete").inc()
                raise BlobStoreError(f"object store refused to delete {len(answer['Errors'])} objects")
        return len(keys)

    def check(self) -> str | None:
        try:
            with self._calling("check"):
                self.client.head_bucket(Bucket=self.bucket)
        except (BlobStoreError, BlobNotFound) as exc:
            return f"bucket {self.bucket!r} is not reachable: {exc}"
        return None


ALL_BLOBS = "tenants/"  # every tenant-owned key; `shared/` (derived, rebuildable) is not backed up


def export_archive(store: BlobStore, target: Path) -> int:
    """Every blob into one tar (backup), each streamed from the store; returns how many."""
    count = 0
    with tarfile.open(target, "w") as archive:
        for info in store.list(ALL_BLOBS):
            member = tarfile.TarInfo(info.key)
            member.size, member.mtime = info.size, int(info.modified.timestamp())
            with store.open_read(info.key) as handle:
                archive.addfile(member, handle)
            count += 1
    return count


def import_archive(store: BlobStore, source: Path) -> int:
    """Restore a tar from `export_archive` into an empty store; every name is checked as a key."""
    if next(iter(store.list(ALL_BLOBS)), None) is not None:
        raise BlobStoreError("the blob store is not empty; restore into fresh storage")
    count = 0
    with tarfile.open(source, "r") as archive:
        for member in archive:
            if not member.isfile():
                raise InvalidBlobKey(f"the archive holds a non-file entry {member.name[:80]!r}")
            handle = archive.extractfile(member)
            if handle is None:
                raise InvalidBlobKey(f"unreadable archive entry {member.name[:80]!r}")
            store.put(check_key(member.name), handle)
            count += 1
    return count


def blob_root(settings: Settings) -> Path:
    return settings.blob_dir if settings.blob_dir is not None else settings.var_dir / "blobs"


@lru_cache(maxsize=4)
def _store(backend: str, root: Path, s3_identity: tuple[str | None, ...]) -> BlobStore:
    if backend == "s3":
        return S3BlobStore(get_settings())
    return LocalBlobStore(root)


def get_blob_store() -> BlobStore:
    """The configured store, one per configuration (tests switch settings between cases)."""
    settings = get_settings()
    identity = (settings.s3_bucket, settings.s3_prefix, settings.s3_endpoint_url, settings.s3_region)
    return _store(settings.blob_backend, blob_root(settings), identity)
