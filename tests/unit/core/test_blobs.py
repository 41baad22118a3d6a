"""One contract for both blob backends: a local directory and S3 (moto's real HTTP server).

Every test runs twice, once per backend, so the API pods and workers behave the same whichever
store an operator configures.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hygeia.core.blobs import (
    COPY_CHUNK,
    BlobNotFound,
    BlobStore,
    BlobStoreError,
    InvalidBlobKey,
    LocalBlobStore,
    S3BlobStore,
    check_key,
    tenant_key,
    tenant_prefix,
)
from hygeia.settings import Settings
from tests.s3_server import ACCESS_KEY, REGION, SECRET_KEY, S3Endpoint, running_s3


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Endpoint]:
    with running_s3() as endpoint:
        yield endpoint


def s3_store(endpoint: S3Endpoint, bucket: str, prefix: str = "deploy-a") -> S3BlobStore:
    return S3BlobStore(
        Settings(
            blob_backend="s3",
            s3_bucket=bucket,
            s3_prefix=prefix,
            s3_endpoint_url=endpoint.url,
            s3_region=REGION,
            s3_access_key_id=ACCESS_KEY,
            s3_secret_access_key=SECRET_KEY,
        )
    )


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    endpoint: S3Endpoint = request.getfixturevalue("s3")
    return s3_store(endpoint, endpoint.new_bucket(f"contract-{secrets.token_hex(4)}"))


class CountingReader(io.RawIOBase):
    """A large upload that is generated as it is read, recording the biggest read asked of it."""

    def __init__(self, size: int) -> None:
        self.left, self.largest_read = size, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            raise AssertionError("the store asked for the whole stream at once")
        self.largest_read = max(self.largest_read, size)
        chunk = min(size, self.left)
        self.left -= chunk
        return b"x" * chunk


def test_bytes_round_trip_with_size_and_a_new_version_on_rewrite(store: BlobStore):
    key = tenant_key("acme", "signals", "uploads", "u1.csv")
    assert store.stat(key) is None
    assert store.put(key, b"id,drug,event\n1,A,B\n") == 20
    first = store.stat(key)
    assert first is not None and first.size == 20 and first.modified.tzinfo is not None
    assert store.read_bytes(key) == b"id,drug,event\n1,A,B\n"
    store.put(key, b"id,drug,event\n")
    second = store.stat(key)
    assert second is not None and second.size == 14 and second.version != first.version
    assert store.read_bytes(key) == b"id,drug,event\n"


def test_a_large_stream_is_copied_in_bounded_chunks_and_read_back_in_pieces(store: BlobStore):
    size = 2 * COPY_CHUNK + 12_345  # more than one chunk; S3 uploads it as one streamed PUT
    source = CountingReader(size)
    assert store.put("tenants/acme/big.bin", source) == size
    assert 0 < source.largest_read <= COPY_CHUNK
    with store.open_read("tenants/acme/big.bin") as handle:
        assert handle.read(10) == b"x" * 10
        rest = 10
        while piece := handle.read(COPY_CHUNK):
            assert len(piece) <= COPY_CHUNK
            rest += len(piece)
    assert rest == size


def test_a_failed_write_leaves_the_previous_object_whole_and_nothing_half_written(store: BlobStore):
    key = "tenants/acme/jobs/j1/ranked.csv.gz"
    store.put(key, b"complete result")
    with pytest.raises(RuntimeError, match="scoring crashed"), store.open_write(key) as handle:
        handle.write(b"half of a new res")
        raise RuntimeError("scoring crashed")
    assert store.read_bytes(key) == b"complete result"
    with pytest.raises(RuntimeError), store.open_write("tenants/acme/jobs/j2/ranked.csv.gz") as handle:
        handle.write(b"partial")
        raise RuntimeError("killed")
    assert store.stat("tenants/acme/jobs/j2/ranked.csv.gz") is None
    assert [info.key for info in store.list("tenants/acme/")] == [key]


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../etc/passwd",
        "tenants/../../etc/passwd",
        "/etc/passwd",
        "tenants//x",
        "tenants/./x",
        "tenants/acme/..",
        "tenants/acme/.hidden",
        "tenants\\acme\\x",
        "tenants/acme/x y",
        "tenants/acme/x\x00",
        "tenants/acme/x\n",
        "a/" * 300 + "b",
    ],
)
def test_keys_that_could_leave_the_store_are_refused_before_any_io(store: BlobStore, key: str):
    with pytest.raises(InvalidBlobKey):
        store.put(key, b"x")
    with pytest.raises(InvalidBlobKey):
        store.stat(key)
    with pytest.raises(InvalidBlobKey):
        store.delete(key)


def test_tenant_keys_check_every_part():
    assert tenant_key("acme", "jobs", "abc123", "ranked.csv.gz") == "tenants/acme/jobs/abc123/ranked.csv.gz"
    assert tenant_prefix("acme") == "tenants/acme/"
    for tenant, part in [("..", "x"), ("acme", ".."), ("acme/../other", "x"), ("acme", "a/../../b")]:
        with pytest.raises(InvalidBlobKey):
            tenant_key(tenant, part)
    assert check_key("tenants/acme/u-1_a.csv") == "tenants/acme/u-1_a.csv"


def test_listing_a_prefix_never_reaches_a_sibling_that_shares_its_letters(store: BlobStore):
    for key in ("tenants/acme/a.csv", "tenants/acme/jobs/j1/r.csv", "tenants/acme2/b.csv"):
        store.put(key, b"1")
    assert [i.key for i in store.list("tenants/acme/")] == [
        "tenants/acme/a.csv",
        "tenants/acme/jobs/j1/r.csv",
    ]
    assert [i.key for i in store.list("tenants/nobody/")] == []
    with pytest.raises(InvalidBlobKey):
        list(store.list("tenants/acme"))  # without the slash it would also match acme2


def test_deleting_is_idempotent_and_a_prefix_goes_whole(store: BlobStore):
    for name in ("ranked.csv.gz", "extra/part-1.csv"):
        store.put(f"tenants/acme/jobs/j1/{name}", b"r")
    store.put("tenants/acme/jobs/j10/ranked.csv.gz", b"other job")
    store.delete("tenants/acme/never-written.csv")
    assert store.delete_prefix("tenants/acme/jobs/j1/") == 2
    assert store.delete_prefix("tenants/acme/jobs/j1/") == 0
    with pytest.raises(BlobNotFound):
        store.read_bytes("tenants/acme/jobs/j1/ranked.csv.gz")
    assert store.read_bytes("tenants/acme/jobs/j10/ranked.csv.gz") == b"other job"


def test_retention_deletes_only_what_was_written_before_the_cutoff(store: BlobStore):
    store.put("tenants/acme/signals/uploads/old.csv", b"o")
    after_first = datetime.now(UTC) + timedelta(seconds=1)
    assert store.delete_older_than("tenants/acme/signals/uploads/", after_first - timedelta(hours=1)) == 0
    assert store.delete_older_than("tenants/acme/signals/uploads/", after_first) == 1
    assert store.stat("tenants/acme/signals/uploads/old.csv") is None


def test_a_local_copy_has_the_bytes_and_the_suffix_readers_sniff(store: BlobStore):
    store.put("tenants/acme/signals/uploads/u1.zip", b"PK\x03\x04 zip bytes")
    with store.local_copy("tenants/acme/signals/uploads/u1.zip") as path:
        assert path.suffix == ".zip" and path.read_bytes() == b"PK\x03\x04 zip bytes"
    with pytest.raises(BlobNotFound), store.local_copy("tenants/acme/signals/uploads/none.zip"):
        pass


def test_a_missing_object_is_blob_not_found(store: BlobStore):
    with pytest.raises(BlobNotFound), store.open_read("tenants/acme/none.csv"):
        pass


def test_the_store_reports_itself_usable(store: BlobStore):
    assert store.check() is None


def test_local_objects_live_under_the_root_and_hide_unfinished_writes(tmp_path: Path):
    store = LocalBlobStore(tmp_path / "blobs")
    with store.open_write("tenants/acme/a.csv") as handle:
        handle.write(b"in progress")
        unfinished = list((tmp_path / "blobs" / "tenants" / "acme").iterdir())
        assert len(unfinished) == 1 and unfinished[0].name.startswith(".")
        assert list(store.list("tenants/acme/")) == []
    assert (tmp_path / "blobs" / "tenants" / "acme" / "a.csv").read_bytes() == b"in progress"
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        "blobs/tenants/acme/a.csv"
    ]


def test_s3_keys_live_under_the_deployment_prefix(s3: S3Endpoint):
    bucket = s3.new_bucket(f"prefix-{secrets.token_hex(4)}")
    first, second = s3_store(s3, bucket, "deploy-a"), s3_store(s3, bucket, "/deploy-b/")
    first.put("tenants/acme/a.csv", b"a")
    second.put("tenants/acme/a.csv", b"b")
    assert s3.keys(bucket) == ["deploy-a/tenants/acme/a.csv", "deploy-b/tenants/acme/a.csv"]
    assert [i.key for i in first.list("tenants/")] == ["tenants/acme/a.csv"]
    assert first.delete_prefix("tenants/acme/") == 1
    assert s3.keys(bucket) == ["deploy-b/tenants/acme/a.csv"]


def test_s3_deletes_more_than_one_request_can_carry(s3: S3Endpoint):
    store = s3_store(s3, s3.new_bucket(f"many-{secrets.token_hex(4)}"))
    for index in range(1003):  # the S3 batch limit is 1,000 keys
        store.client.put_object(Bucket=store.bucket, Key=f"deploy-a/tenants/acme/jobs/j/{index}", Body=b"")
    assert store.delete_prefix("tenants/acme/jobs/j/") == 1003
    assert list(store.list("tenants/acme/")) == []


def test_an_unreachable_bucket_is_named_not_crashed_on(s3: S3Endpoint):
    store = s3_store(s3, "no-such-bucket")
    problem = store.check()
    assert problem is not None and "no-such-bucket" in problem
    with pytest.raises(BlobStoreError):
        store.put("tenants/acme/a.csv", b"a")


def test_s3_needs_a_bucket():
    with pytest.raises(ValueError, match="HYGEIA_S3_BUCKET"):
        Settings(blob_backend="s3", s3_bucket=" ")


def test_production_refuses_pod_local_blobs_across_replicas():
    base = {
        "environment": "production",
        "database_url": "postgresql+psycopg://h@db/h",
        "jwt_secret": "x" * 40,
        "jobs_backend": "celery",
        "redis_url": "redis://redis:6379/0",
        "replicas": 2,
    }
    with pytest.raises(ValueError, match="HYGEIA_BLOB_BACKEND=local with HYGEIA_REPLICAS=2"):
        Settings(**base)
    assert Settings(**base, blob_dir=Path("/shared/blobs")).blob_dir == Path("/shared/blobs")
    assert Settings(**base, blob_backend="s3", s3_bucket="hygeia").blob_backend == "s3"
