"""Refusals about an uploaded file: its body, its checks, its bytes (dev-api-releases.md §2,
files-and-storage.md §2–§5, §11)."""

from __future__ import annotations

from releasegate.kit.errors import (
    Invalid,
    NotFound,
    RangeNotSatisfiable,
    RequestTimeout,
    TooLarge,
    UnsupportedMediaType,
)
from releasegate.kit.sizes import format_size

# --- the multipart body: refused mid-stream, so the connection closes -------------------------


class NotMultipart(UnsupportedMediaType):
    text = "Content-Type must be multipart/form-data"


class InvalidMultipart(Invalid):
    text = "Invalid multipart body"
    closes_connection = True


class BodyTooLarge(TooLarge):
    text = "Request body too large"
    closes_connection = True


class FileTooLarge(Invalid):
    closes_connection = True

    def __init__(self, limit: int) -> None:
        super().__init__(f"File too large. Maximum size is {format_size(limit)}")


class DataFieldTooLarge(Invalid):
    text = "Data field too large"
    closes_connection = True


class InvalidDataJson(Invalid):
    text = "Invalid JSON in data field"
    closes_connection = True


class InvalidDataField(Invalid):
    text = "Invalid request body"
    closes_connection = True


class MissingDataField(Invalid):
    text = "Missing data field"
    closes_connection = True


class InvalidFilePart(Invalid):
    text = "Invalid file"
    closes_connection = True


class UploadStalled(RequestTimeout):
    text = "Request timeout"
    closes_connection = True


# --- the file's checks ------------------------------------------------------------------------


class DigestWithoutFile(Invalid):
    text = "sha256 was provided but no file was uploaded"


class ChecksumMismatch(Invalid):
    text = "File checksum mismatch"


class UploadsNotAllowed(Invalid):
    text = "File uploads require a paid subscription"


class StorageLimitReached(Invalid):
    text = "Storage limit reached"


class InvalidFileName(Invalid):
    text = "Invalid file name"


class MissingExtension(Invalid):
    text = "File must have an extension"


class MainClassNotFound(Invalid):
    text = "Main class not found in JAR file"


# --- reading ----------------------------------------------------------------------------------


class StoredFileMissing(NotFound):
    """The row exists but its object does not (or has another size): an integrity fault."""

    text = "File not found"
    code = "RELEASE_NOT_FOUND"


class RangeRefused(RangeNotSatisfiable):
    def __init__(self, size: int) -> None:
        super().__init__(headers={"Content-Range": f"bytes */{size}"})
