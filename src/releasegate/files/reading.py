"""Reading a stored file: whole or one byte range, with its download headers
(dev-api-releases.md §8).

The object is opened (or, for a range, looked up) before any header is built, so a missing
object is a 404 envelope and never a 200 with an empty body (files-and-storage.md §11).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

import structlog

from releasegate.files.errors import RangeRefused, StoredFileMissing
from releasegate.files.models import ReleaseFile
from releasegate.runtime import Runtime
from releasegate.storage import ObjectNotFound, OpenedObject

log = structlog.get_logger(__name__)

_SINGLE_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)", re.IGNORECASE)
# RFC 8187 attr-char minus ALPHA / DIGIT and the marks quote() always keeps.
_ATTR_CHAR_MARKS = "!#$&+^`|~"


@dataclass(frozen=True)
class ByteRange:
    """Inclusive byte positions within the file."""

    first: int
    last: int

    @property
    def length(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True)
class RangeRequest:
    """One parsed range-spec: `first-last`, `first-` (last None) or `-suffix` (first None)."""

    first: int | None
    last: int | None

    def resolve(self, size: int) -> ByteRange | None:
        """The bytes to send from a non-empty file of `size` bytes; None if unsatisfiable."""
        if self.first is None:
            suffix = self.last or 0
            return ByteRange(max(size - suffix, 0), size - 1) if suffix else None
        if self.first >= size:
            return None
        last = size - 1 if self.last is None else min(self.last, size - 1)
        return ByteRange(self.first, last)


@dataclass
class FileDownload:
    """The answer to a download: a status and headers, and the bytes unless someone else
    (S3 or the proxy in front) sends them."""

    status: int
    headers: dict[str, str]
    chunks: AsyncIterator[bytes | memoryview] | None


def parse_range(range_header: str | None, if_range: str | None, etag: str) -> RangeRequest | None:
    """The single range asked for, or None to send the whole file.

    Multiple ranges, malformed headers and an If-Range other than our strong ETag are ignored.
    """
    if range_header is None or (if_range is not None and if_range.strip() != etag):
        return None
    match = _SINGLE_RANGE.fullmatch(range_header.strip())
    if match is None:
        return None
    first, last = (int(text) if text else None for text in match.groups())
    if first is None and last is None:
        return None
    if first is not None and last is not None and last < first:
        return None
    return RangeRequest(first, last)


def attachment_disposition(name: str) -> str:
    """`attachment` with an ASCII `filename` fallback and the exact UTF-8 `filename*`."""
    fallback = "".join(char if " " <= char <= "~" and char not in '"\\' else "_" for char in name)
    encoded = quote(name, safe=_ATTR_CHAR_MARKS)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def download_headers(file: ReleaseFile, length: int) -> dict[str, str]:
    return {
        "Content-Type": file.content_type,
        "Content-Length": str(length),
        "Content-Disposition": attachment_disposition(file.name),
        "ETag": f'"{file.sha256}"',
        "X-Checksum-MD5": file.checksum,
        "X-Checksum-SHA256": file.sha256,
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }


def _file_not_found(file: ReleaseFile, stored_size: int | None) -> StoredFileMissing:
    log.error(
        "release_file_missing",
        releaseId=str(file.release_id),
        fileId=str(file.id),
        key=file.key,
        recordedSize=file.size,
        storedSize=stored_size,
    )
    return StoredFileMissing()


async def _check_stored(runtime: Runtime, file: ReleaseFile) -> None:
    """Row 9 without reading: the object exists with the recorded size."""
    try:
        size = await runtime.storage.head(file.key)
    except ObjectNotFound:
        raise _file_not_found(file, None) from None
    if size != file.size:
        raise _file_not_found(file, size)


async def open_stored(
    runtime: Runtime, file: ReleaseFile, part: ByteRange | None = None
) -> OpenedObject:
    """Open the object (or one range of it); a missing object, or one of another size than
    recorded, is StoredFileMissing, raised before any byte is sent."""
    try:
        if part is None:
            opened = await runtime.storage.open(file.key)
        else:
            opened = await runtime.storage.open(file.key, part.first, part.last + 1)
    except ObjectNotFound:
        raise _file_not_found(file, None) from None
    if opened.size != file.size:
        raise _file_not_found(file, opened.size)
    return opened


async def _handed_over(runtime: Runtime, file: ReleaseFile) -> FileDownload | None:
    """RELEASEGATE_DOWNLOAD_REDIRECT: after every check passed, let S3 or the proxy send the
    bytes (they honour Range themselves); None when the app streams them."""
    mode = runtime.settings.download_redirect
    if mode == "presigned":
        ttl = timedelta(seconds=runtime.settings.download_url_ttl)
        url = await runtime.storage.signed_url(file.key, ttl)
        if url is not None:
            return FileDownload(302, {"Location": url, "Cache-Control": "no-store"}, None)
    headers = download_headers(file, file.size)
    del headers["Content-Length"]  # the proxy sets it for the bytes it sends
    if mode == "accel":
        prefix = runtime.settings.download_accel_prefix
        headers["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(file.key)
        return FileDownload(200, headers, None)
    path = runtime.storage.local_path(file.key) if mode == "sendfile" else None
    if path is not None:
        headers["X-Sendfile"] = str(path)
        return FileDownload(200, headers, None)
    return None


async def open_download(
    runtime: Runtime, file: ReleaseFile, range_header: str | None, if_range: str | None
) -> FileDownload:
    """Rows 9–10 of §8: the status, headers and an already-open byte stream."""
    handed_over = await _handed_over(runtime, file)
    if handed_over is not None:
        return handed_over
    requested = parse_range(range_header, if_range, f'"{file.sha256}"') if file.size else None
    if requested is None:
        opened = await open_stored(runtime, file)
        return FileDownload(200, download_headers(file, file.size), opened.chunks)
    # A range needs the stored size checked first: row 9 comes before row 10 (416).
    await _check_stored(runtime, file)
    part = requested.resolve(file.size)
    if part is None:
        raise RangeRefused(file.size)
    opened = await open_stored(runtime, file, part)
    headers = download_headers(file, part.length)
    headers["Content-Range"] = f"bytes {part.first}-{part.last}/{file.size}"
    return FileDownload(206, headers, opened.chunks)
