"""Screens: a molecule file of any length scored in chunks spread over the job workers.

A screen is one job to its owner. Its handler streams the uploaded file (CSV, SMILES or SDF) into
chunk files of `chunk_size` records in the blob store, in the input's own format, and hands one child
job per chunk to the job backend (`JobContext.hand_off`): every Celery worker takes chunks from their
own queue, the in-process backend runs them one at a time on a thread of their own. A chunk reads its
file with the CLI's reader, scores it and writes its rows as one part file with a fixed name; the
child that finds every part there merges them, in input order, into CSV or Parquet and completes the
screen. A worker killed mid-chunk leaves that chunk's job unacknowledged, the broker redelivers it,
and the part is written again under the same name, so nothing is lost and nothing is counted twice.
`hygeia toxicity predict` runs the same chunks, parts and merge in a temporary folder (`screen_file`).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from hygeia.core.auth import Principal
from hygeia.core.blobs import BlobStore, check_prefix, get_blob_store, tenant_key
from hygeia.core.errors import Conflict, InputError, NotFound
from hygeia.core.exports import write_safe_csv
from hygeia.core.jobs import (
    RUNNING,
    SUCCEEDED,
    HandedOff,
    JobContext,
    JobInfo,
    child_job_id,
    complete_job,
    fail_job,
    get_job,
    job_files_prefix,
    submit_job,
)
from hygeia.toxicity.io import (
    OUTPUT_COLUMNS,
    SDF_SUFFIXES,
    SMILES_SUFFIXES,
    InputFileError,
    InputRecord,
    csv_delimiter,
    is_smiles_record,
    output_row,
    passthrough_columns,
    read_records,
)
from hygeia.toxicity.loading import get_model
from hygeia.toxicity.model import ToxicityModel
from hygeia.toxicity.predictor import predict_items

SCREEN_JOB = "toxicity.screen"
CHUNK_JOB = "toxicity.screen_chunk"
DEFAULT_CHUNK = 5_000  # ~30-60 s of one core: long enough to amortise loading, short enough to redo
MAX_CHUNK = 50_000
MAX_CHUNKS = 2_000  # a job row each; a larger file asks for larger chunks
OUTPUT_FORMATS = ("csv", "parquet")
MEDIA_TYPES = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
INPUT_SUFFIXES = (".csv", *sorted(SMILES_SUFFIXES), *sorted(SDF_SUFFIXES - {".mol"}))
INDEX_FILE = "chunks/index.json"


@dataclass(frozen=True)
class ScreenSplit:
    records: int
    chunks: int


def submit_screen(
    principal: Principal, source: BinaryIO, filename: str, output_format: str, chunk_size: int
) -> JobInfo:
    """Store the upload as it streams in and queue the screen; the file is read by the job."""
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in INPUT_SUFFIXES:
        raise InputError(f"unsupported input {filename!r}: use {', '.join(INPUT_SUFFIXES)}")
    if output_format not in OUTPUT_FORMATS:
        raise InputError(f"output format must be one of {', '.join(OUTPUT_FORMATS)}")
    if not 1 <= chunk_size <= MAX_CHUNK:
        raise InputError(f"chunk_size must be 1 to {MAX_CHUNK:,}")
    get_model()  # 503 now, not inside the job, when there is no model
    key = tenant_key(principal.tenant_id, "uploads", "toxicity-screens", f"{uuid.uuid4().hex}{suffix}")
    get_blob_store().put(key, source)
    payload = {
        "input": key,
        "suffix": suffix,
        "filename": filename[:200],
        "format": output_format,
        "chunk_size": chunk_size,
    }
    return submit_job(principal, SCREEN_JOB, payload)


def run_screen(payload: dict[str, Any], ctx: JobContext) -> HandedOff:
    """Split the input once (a redelivered screen reuses its chunks), then hand the chunks out."""
    store = get_blob_store()
    index_key = ctx.file_key(INDEX_FILE)
    if store.stat(index_key) is not None:
        index = json.loads(store.read_bytes(index_key))
    else:
        model = get_model()
        ctx.progress(0.0, "splitting the input into chunks")
        with store.open_read(payload["input"]) as source:
            try:
                split = split_input(
                    source,
                    payload["suffix"],
                    int(payload["chunk_size"]),
                    lambda n, data: store.put(chunk_key(ctx, n, payload["suffix"]), data),
                )
            except InputFileError as exc:
                raise InputError(str(exc)) from None
        if split.records == 0:
            raise InputError(f"{payload.get('filename') or 'the file'} holds no molecules")
        index = {"records": split.records, "chunks": split.chunks, "model": model.reference()}
        store.put(index_key, json.dumps(index).encode())
    chunks = [
        {
            "index": n,
            "chunks": index["chunks"],
            "first_record": n * int(payload["chunk_size"]) + 1,
            "input": chunk_key(ctx, n, payload["suffix"]),
            "format": payload["format"],
            "model": index["model"],
        }
        for n in range(index["chunks"])
    ]
    message = (
        f"{index['records']:,} molecules in {index['chunks']:,} chunks of up to {payload['chunk_size']:,}"
    )
    return ctx.hand_off(CHUNK_JOB, chunks, message)


def chunk_key(ctx: JobContext, n: int, suffix: str) -> str:
    return ctx.file_key(f"chunks/{n:05d}{suffix}")


def part_key(ctx: JobContext, n: int) -> str:
    return ctx.file_key(f"parts/{n:05d}.parquet")


def run_chunk(payload: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """Score one chunk into its part; the child that completes the set merges and finishes the screen."""
    parent = JobContext(payload["parent"], ctx.tenant_id)
    index, chunks = int(payload["index"]), int(payload["chunks"])
    try:
        if get_job(ctx.tenant_id, parent.job_id).status != RUNNING:
            return {"skipped": "the screen has already finished"}
        rows, errors = _score_chunk(payload, parent)
        store = get_blob_store()
        parts = check_prefix(job_files_prefix(ctx.tenant_id, parent.job_id) + "parts/")
        done = sum(1 for _ in store.list(parts))
        parent.progress(min(done / chunks, 0.99), f"scored {done:,} of {chunks:,} chunks")
        if done == chunks:
            complete_job(
                parent.job_id, merge_parts(store, parent, chunks, payload["format"], payload["model"])
            )
    except Exception as exc:
        fail_job(parent.job_id, f"chunk {index + 1} of {chunks}: {exc}")
        raise
    return {"rows": rows, "errors": errors}


def _score_chunk(payload: dict[str, Any], parent: JobContext) -> tuple[int, int]:
    model = get_model()
    if model.reference()["version"] != payload["model"]["version"]:
        raise RuntimeError(
            f"the production model changed from {payload['model']['version']} to {model.version} during "
            "the screen; submit it again so that every row comes from one model"
        )
    store = get_blob_store()
    with store.local_copy(payload["input"]) as path:
        table = scored_part(model, read_records(path, int(payload.get("first_record", 1))))
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    store.put(part_key(parent, int(payload["index"])), buffer.getvalue())
    return table.num_rows, _errors(table)


def scored_part(model: ToxicityModel, records: list[InputRecord]) -> pa.Table:
    """One chunk's output rows (the caller's columns, then the predictions), every cell as text."""
    results = predict_items(model, [r.smiles for r in records], [r.molecule for r in records])
    columns = [*passthrough_columns(records), *OUTPUT_COLUMNS]
    rows = [output_row(record, result) for record, result in zip(records, results, strict=True)]
    return pa.Table.from_pylist(rows, schema=pa.schema([(c, pa.string()) for c in columns]))


def _errors(part: pa.Table) -> int:
    return sum(1 for error in part.column("error").to_pylist() if error)


def merge_parts(
    store: BlobStore, parent: JobContext, chunks: int, output_format: str, model: dict[str, str]
) -> dict[str, Any]:
    """Every part in chunk order into one file, one part in memory at a time (`write_merged`)."""
    keys = [part_key(parent, n) for n in range(chunks)]
    key = parent.file_key(f"predictions.{output_format}")
    with store.open_write(key) as raw:
        rows, errors = write_merged(
            raw,
            output_format,
            [_part_columns(store, part) for part in keys],
            (_read_part(store, part) for part in keys),
        )
    return {
        "model": model,
        "n_rows": rows,
        "n_errors": errors,
        "chunks": chunks,
        "output": {"format": output_format, "key": key, "bytes": store.stat(key).size},  # type: ignore[union-attr]
        "download": f"/api/v1/toxicity/screens/{parent.job_id}/download",
    }


def write_merged(
    raw: IO[bytes], output_format: str, part_columns: list[list[str]], parts: Iterable[pa.Table]
) -> tuple[int, int]:
    """Parts in order into CSV or Parquet; returns (rows, rows with an error). Columns: the callers'
    in first-seen order (SDF records may carry different fields), then the predictions; a row
    without one of them has it empty."""
    seen = dict.fromkeys(name for columns in part_columns for name in columns)
    columns = [c for c in seen if c not in OUTPUT_COLUMNS] + list(OUTPUT_COLUMNS)
    tally = [0, 0]

    def counted() -> Iterator[pa.Table]:
        for part in parts:
            tally[0], tally[1] = tally[0] + part.num_rows, tally[1] + _errors(part)
            yield part

    (_write_csv if output_format == "csv" else _write_parquet)(raw, columns, counted())
    return tally[0], tally[1]


def _part_columns(store: BlobStore, key: str) -> list[str]:
    with store.local_copy(key) as path:
        return list(pq.read_schema(path).names)


def _read_part(store: BlobStore, key: str) -> pa.Table:
    with store.local_copy(key) as path:
        return pq.read_table(path)


def _write_csv(raw: IO[bytes], columns: list[str], tables: Iterable[pa.Table]) -> None:
    text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    write_safe_csv(text, columns, (row for table in tables for row in table.to_pylist()))
    text.flush()
    text.detach()


def _write_parquet(raw: IO[bytes], columns: list[str], tables: Iterable[pa.Table]) -> None:
    schema = pa.schema([(c, pa.string()) for c in columns])
    with pq.ParquetWriter(raw, schema, compression="zstd") as writer:
        for table in tables:
            missing = [c for c in columns if c not in table.column_names]
            for name in missing:
                table = table.append_column(name, pa.nulls(table.num_rows, pa.string()))
            writer.write_table(table.select(columns))


def split_input(
    source: IO[bytes], suffix: str, chunk_size: int, write_chunk: Callable[[int, bytes], object]
) -> ScreenSplit:
    """Stream the input into chunk files of `chunk_size` records in the same format."""
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="" if suffix == ".csv" else None)
    chunker = _csv_chunks if suffix == ".csv" else _sdf_chunks if suffix in SDF_SUFFIXES else _smiles_chunks
    records = chunker(text)
    count = chunks = 0
    batch: list[str] = []
    try:
        header = next(records)
        for record in records:
            batch.append(record)
            count += 1
            if len(batch) == chunk_size:
                chunks = _flush(write_chunk, chunks, header, batch)
        if batch:
            chunks = _flush(write_chunk, chunks, header, batch)
    except UnicodeDecodeError as exc:
        raise InputFileError(f"the file is not UTF-8 text: {exc}") from exc
    return ScreenSplit(count, chunks)


def _flush(write_chunk: Callable[[int, bytes], object], chunks: int, header: str, batch: list[str]) -> int:
    if chunks >= MAX_CHUNKS:
        raise InputFileError(f"more than {MAX_CHUNKS:,} chunks: ask for a larger chunk_size")
    write_chunk(chunks, (header + "".join(batch)).encode())
    batch.clear()
    return chunks + 1


def _csv_chunks(text: IO[str]) -> Iterator[str]:
    """The header first, then one CSV-encoded line per non-blank row (quoted fields kept whole), with
    commas whatever the file's delimiter (`csv_delimiter`)."""
    first = text.readline()
    reader = csv.reader(itertools.chain([first], text), delimiter=csv_delimiter(first))
    try:
        header = next(reader)
    except StopIteration:
        raise InputFileError("the CSV file is empty") from None
    if "smiles" not in {c.strip().lower() for c in header}:
        raise InputFileError(f"the CSV has no 'smiles' column (columns: {header})")
    yield _csv_line(header)
    for row in reader:
        if row:
            yield _csv_line(row)


def _csv_line(row: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(row)
    return out.getvalue()


def _smiles_chunks(text: IO[str]) -> Iterator[str]:
    """A `smiles` header on every chunk, so a chunk's first molecule is never taken for one."""
    yield "smiles\n"
    for number, line in enumerate(text):
        if is_smiles_record(line.split(), number):
            yield line if line.endswith("\n") else line + "\n"


def _sdf_chunks(text: IO[str]) -> Iterator[str]:
    """Molecule blocks with their `$$$$` line; a trailing block without one still counts."""
    yield ""
    block: list[str] = []
    for line in text:
        if line.strip() == "$$$$":
            yield "".join(block) + "$$$$\n"
            block = []
        else:
            block.append(line if line.endswith("\n") else line + "\n")
    if any(line.strip() for line in block):
        yield "".join(block) + "$$$$\n"


def screen_file(
    model: ToxicityModel, source: Path, output: Path, chunk_size: int, log: Callable[[str], object]
) -> tuple[int, int]:
    """The CLI's screen: the same chunks, parts and merge in a temporary folder, so a file of any
    length is scored with one chunk in memory. Returns (rows, rows with an error)."""
    suffix, output_format = source.suffix.lower(), output.suffix.lower().lstrip(".")
    with tempfile.TemporaryDirectory() as folder, source.open("rb") as handle:
        work = Path(folder)
        split = split_input(
            handle, suffix, chunk_size, lambda n, data: (work / f"{n:05d}{suffix}").write_bytes(data)
        )
        for n in range(split.chunks):
            records = read_records(work / f"{n:05d}{suffix}", n * chunk_size + 1)
            pq.write_table(scored_part(model, records), work / f"{n:05d}.parquet")
            log(f"scored {min((n + 1) * chunk_size, split.records):,} of {split.records:,} records")
        parts = [work / f"{n:05d}.parquet" for n in range(split.chunks)]
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("wb") as raw:
            return write_merged(
                raw,
                output_format,
                [list(pq.read_schema(p).names) for p in parts],
                (pq.read_table(p) for p in parts),
            )


def screen_download(tenant_id: str, job_id: str) -> tuple[Iterator[bytes], str, str]:
    """The finished screen's output as a byte stream, its media type and a file name."""
    job = get_job(tenant_id, job_id)
    if job.kind != SCREEN_JOB:
        raise NotFound(f"no screen {job_id!r} for this tenant")
    if job.status != SUCCEEDED or not job.result:
        raise Conflict(f"screen {job_id} is {job.status}; its file is there once it has succeeded")
    output = job.result["output"]
    return _stream(output["key"]), MEDIA_TYPES[output["format"]], f"screen-{job_id[:8]}.{output['format']}"


def _stream(key: str) -> Iterator[bytes]:
    with get_blob_store().open_read(key) as source:
        while block := source.read(1 << 16):
            yield block


def remove_screen_files(tenant_id: str, job_id: str, payload: dict[str, Any]) -> None:
    """A deleted screen takes its upload and its chunk jobs with it (its own files go by prefix)."""
    from hygeia.core.retention import delete_job

    store = get_blob_store()
    index_key = JobContext(job_id, tenant_id).file_key(INDEX_FILE)
    if store.stat(index_key) is not None:
        for n in range(int(json.loads(store.read_bytes(index_key))["chunks"])):
            delete_job(tenant_id, child_job_id(job_id, n))
    if payload.get("input"):
        store.delete(payload["input"])
