"""Finding and safely opening the files of FAERS quarterly ASCII extracts (a folder or the zip).

A quarter ships DEMOyyQq.txt, DRUG, REAC, OUTC, INDI, THER, RPSR and a DELETE list of case ids.
Several quarters may sit side by side; they are combined and de-duplicated downstream. Zips are
read in place, never extracted, but a member whose name would escape an extraction folder
(zip-slip: absolute paths, "..") is still refused, as is anything over the size limits or with a
compression ratio typical of zip bombs; the byte limit is enforced while reading, so a member that
lies about its size in the zip directory is cut off too.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from hygeia.signals.errors import SignalDataError

TABLES = ("DEMO", "DRUG", "REAC", "OUTC", "INDI", "THER", "RPSR")
_TABLE_FILE = re.compile(r"^(DEMO|DRUG|REAC|OUTC|INDI|THER|RPSR)(\d{2}Q[1-4])\.TXT$", re.IGNORECASE)
_DELETE_FILE = re.compile(r"^DELETE.*\.TXT$", re.IGNORECASE)


@dataclass(frozen=True)
class FaersLimits:
    max_member_bytes: int = 8 * 1024**3  # one uncompressed table (the largest DRUG files are ~1 GB)
    max_total_bytes: int = 32 * 1024**3  # all uncompressed tables of one upload
    max_members: int = 5_000
    max_compression_ratio: float = 200.0  # text compresses ~10x; a 1000x member is a bomb


@dataclass(frozen=True)
class FaersFile:
    """One table file: where it is, which table and quarter, and how to open it as bytes."""

    name: str
    table: str  # DEMO ... RPSR or DELETE
    quarter: str  # e.g. "2022Q4" ("" for DELETE lists without a quarter in the name)
    open: Callable[[], IO[bytes]]


@dataclass
class FaersSource:
    files: list[FaersFile] = field(default_factory=list)

    def of(self, table: str) -> list[FaersFile]:
        return [f for f in self.files if f.table == table]


def _classify(filename: str) -> tuple[str, str] | None:
    base = PurePosixPath(filename).name
    match = _TABLE_FILE.match(base)
    if match:
        yy, q = match.group(2)[:2], match.group(2)[3]
        return match.group(1).upper(), f"20{yy}Q{q}"
    if _DELETE_FILE.match(base):
        quarter = re.search(r"(\d{2})Q([1-4])", base, re.IGNORECASE)
        return "DELETE", f"20{quarter.group(1)}Q{quarter.group(2)}" if quarter else ""
    return None


class _LimitedReader(io.RawIOBase):
    """Stops with a clear error once more than `limit` bytes have been read."""

    def __init__(self, raw: IO[bytes], limit: int, name: str) -> None:
        self._raw, self._left, self._name = raw, limit, name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(min(len(buffer), self._left + 1))
        if len(data) > self._left:
            raise SignalDataError("uncompressed size is above the configured limit", source=self._name)
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


def _safe_member_name(name: str, archive: str) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", name):
        raise SignalDataError(
            f"unsafe member name {name!r} (zip-slip) — refusing the archive", source=archive
        )


def _zip_files(path: Path, limits: FaersLimits) -> Iterator[FaersFile]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise SignalDataError(f"not a readable zip file ({exc})", source=str(path)) from exc
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise SignalDataError(
            f"{len(members)} members, above the limit of {limits.max_members}", source=str(path)
        )
    total = 0
    for info in members:
        _safe_member_name(info.filename, str(path))
        if info.is_dir():
            continue
        kind = _classify(info.filename)
        if kind is None:
            continue
        total += info.file_size
        label = f"{path}!{info.filename}"
        if info.file_size > limits.max_member_bytes or total > limits.max_total_bytes:
            raise SignalDataError("uncompressed size is above the configured limit", source=label)
        if info.compress_size and info.file_size / info.compress_size > limits.max_compression_ratio:
            raise SignalDataError(
                f"compression ratio {info.file_size / info.compress_size:.0f}:1 looks like a zip bomb",
                source=label,
            )

        def opener(info: zipfile.ZipInfo = info, label: str = label) -> IO[bytes]:
            raw = archive.open(info)
            return io.BufferedReader(_LimitedReader(raw, limits.max_member_bytes, label))

        yield FaersFile(label, kind[0], kind[1], opener)


def _folder_files(path: Path, limits: FaersLimits) -> Iterator[FaersFile]:
    total = 0
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        kind = _classify(file.name)
        if kind is None:
            continue
        size = file.stat().st_size
        total += size
        if size > limits.max_member_bytes or total > limits.max_total_bytes:
            raise SignalDataError("file size is above the configured limit", source=str(file))
        yield FaersFile(str(file), kind[0], kind[1], functools.partial(_open_file, file))


def _open_file(path: Path) -> IO[bytes]:
    return path.open("rb")


def open_source(path: Path | str, limits: FaersLimits | None = None) -> FaersSource:
    """All FAERS table files under a folder or inside a zip; refuses a source without DEMO/DRUG/REAC."""
    path, limits = Path(path), limits or FaersLimits()
    if not path.exists():
        raise SignalDataError("no such file or folder", source=str(path))
    files = list(_folder_files(path, limits) if path.is_dir() else _zip_files(path, limits))
    source = FaersSource(files)
    missing = [t for t in ("DEMO", "DRUG", "REAC") if not source.of(t)]
    if missing:
        raise SignalDataError(
            f"no {', '.join(missing)} file found (expected names like DEMO22Q4.txt)", source=str(path)
        )
    return source
