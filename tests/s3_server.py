"""A real S3 HTTP endpoint on 127.0.0.1 (moto's server) for the blob store's tests.

boto3 talks to it over HTTP exactly as it talks to AWS S3 or MinIO: signed requests, multipart
uploads, paginated listings. Its objects live in the server's memory and vanish with it.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

ACCESS_KEY, SECRET_KEY, REGION = "hygeia-test", "hygeia-test-secret", "us-east-1"


@dataclass(frozen=True)
class S3Endpoint:
    url: str

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def new_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def environment(self, bucket: str, prefix: str = "") -> dict[str, str]:
        """The HYGEIA_* settings a process needs to keep its blobs in this bucket."""
        return {
            "HYGEIA_BLOB_BACKEND": "s3",
            "HYGEIA_S3_BUCKET": bucket,
            "HYGEIA_S3_PREFIX": prefix,
            "HYGEIA_S3_ENDPOINT_URL": self.url,
            "HYGEIA_S3_REGION": REGION,
            "HYGEIA_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "HYGEIA_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_s3() -> Iterator[S3Endpoint]:
    """moto's threaded server on a free loopback port; `moto[server]` is in the dev extra."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        pytest.fail("moto[server] is not installed: pip install -e '.[dev]'")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield S3Endpoint(f"http://127.0.0.1:{port}")
    finally:
        server.stop()
