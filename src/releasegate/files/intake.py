"""Streaming intake of an upload form: `data` + optional `file` (dev-api-releases.md §2.1–§2.3,
files-and-storage.md §2–§4).

Bytes go from the socket to staged storage once, hashed on the way; nothing holds the whole
file in memory. Rows 6–15 of the create table are decided here, in the order the spec gives for
each part order.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from releasegate.files.errors import (
    BodyTooLarge,
    DataFieldTooLarge,
    FileTooLarge,
    InvalidDataField,
    InvalidDataJson,
    InvalidFilePart,
    InvalidMultipart,
    MissingDataField,
    NotMultipart,
    UploadStalled,
)
from releasegate.files.staging import StagedWrite, StagingFailed
from releasegate.kit.content_disposition import parse_disposition
from releasegate.kit.sizes import MIB
from releasegate.kit.strict_json import InvalidJSON, parse_strict_json
from releasegate.kit.validation import Object, validate
from releasegate.runtime import Runtime

DATA_LIMIT = 64 * 1024
_BOUNDARY = re.compile(rb"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
ENVELOPE_ALLOWANCE = MIB  # room for `data`, framing and headers beyond the file limit


@dataclass
class StagedFile:
    """A fully written staged object and the facts derived while streaming it."""

    file_id: uuid.UUID
    write: StagedWrite
    raw_name: str  # decoded with surrogateescape: invalid UTF-8 survives as surrogates
    content_type_header: str | None
    size: int
    md5: str
    sha256: str

    @property
    def key(self) -> str:
        return self.write.key


@dataclass
class UploadForm:
    """The validated `data` part (wire form, for the endpoint to type) and the staged file."""

    data: dict[str, Any]
    file: StagedFile | None


def _body_kind(request: Request) -> tuple[str, bytes]:
    """Row 6: multipart with a boundary, or urlencoded; anything else is 415."""
    header = request.headers.get("content-type", "")
    kind, params = parse_options_header(header)
    if kind == b"multipart/form-data" and params.get(b"boundary"):
        return "multipart", params[b"boundary"]
    if kind == b"application/x-www-form-urlencoded":
        return "urlencoded", b""
    raise NotMultipart()


def _file_limit(runtime: Runtime, max_file_size_mb: int | None) -> int:
    """Team limit in bytes; 0 means unlimited."""
    mb = runtime.settings.max_file_size_mb if max_file_size_mb is None else max_file_size_mb
    return mb * MIB


def _validated_data(raw: bytes, schema: Object) -> dict[str, Any]:
    """Rows 13–14."""
    try:
        parsed = parse_strict_json(raw)
    except InvalidJSON:
        raise InvalidDataJson() from None
    cleaned, issues = validate(schema, parsed)
    if issues or cleaned is None:
        raise InvalidDataField(data=[issue.as_json() for issue in issues])
    return cleaned


async def _chunks_with_idle_timeout(request: Request, idle_seconds: float) -> AsyncIterator[bytes]:
    stream = request.stream().__aiter__()
    while True:
        try:
            chunk = await asyncio.wait_for(stream.__anext__(), idle_seconds)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise UploadStalled() from None
        except ClientDisconnect:
            raise InvalidMultipart() from None
        if chunk:
            yield chunk


@dataclass
class _Part:
    name: str | None = None
    is_file: bool = False
    role: str = "ignored"  # data | file | ignored
    headers: dict[bytes, bytes] = field(default_factory=dict)


class _MultipartIntake:
    """Drives python-multipart's push parser and acts on its events between socket reads."""

    def __init__(
        self,
        runtime: Runtime,
        team_id: uuid.UUID,
        schema: Object,
        file_limit: int,
        key_for: Callable[[uuid.UUID], str],
    ) -> None:
        self.runtime = runtime
        self.team_id = team_id
        self.schema = schema
        self.file_limit = file_limit
        self.key_for = key_for
        self.events: list[tuple[str, bytes]] = []
        self.seen_names: set[str] = set()
        self.part = _Part()
        self.header_field = b""
        self.header_value = b""
        self.data_raw = bytearray()
        self.data: dict[str, Any] | None = None
        self.data_missing = False  # first `data` was a file part
        self.staged: StagedWrite | None = None
        self.file_id: uuid.UUID | None = None
        self.file_name = ""
        self.file_content_type: str | None = None
        self.file_size = 0
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha256 = hashlib.sha256()
        self.file_done = False
        self.ended = False

    def callbacks(self) -> dict[str, Any]:
        def on(name: str) -> Callable[..., None]:
            def record(data: bytes | None = None, start: int = 0, end: int = 0) -> None:
                self.events.append((name, b"" if data is None else bytes(data[start:end])))

            return record

        return {
            "on_part_begin": on("part_begin"),
            "on_part_data": on("part_data"),
            "on_part_end": on("part_end"),
            "on_header_field": on("header_field"),
            "on_header_value": on("header_value"),
            "on_header_end": on("header_end"),
            "on_headers_finished": on("headers_finished"),
            "on_end": on("end"),
        }

    async def handle_events(self) -> None:
        events, self.events = self.events, []
        for kind, payload in events:
            await self._handle(kind, payload)

    async def _handle(self, kind: str, payload: bytes) -> None:
        if kind == "part_begin":
            self.part = _Part()
            self.header_field = self.header_value = b""
        elif kind == "header_field":
            self.header_field += payload
        elif kind == "header_value":
            self.header_value += payload
        elif kind == "header_end":
            self.part.headers.setdefault(self.header_field.strip().lower(), self.header_value)
            self.header_field = self.header_value = b""
        elif kind == "headers_finished":
            await self._begin_part()
        elif kind == "part_data":
            await self._part_data(payload)
        elif kind == "part_end":
            await self._end_part()
        elif kind == "end":
            self.ended = True

    async def _begin_part(self) -> None:
        disposition = parse_disposition(self.part.headers.get(b"content-disposition", b""))
        part = self.part
        part.name, part.is_file = disposition.name, disposition.is_file
        if part.name is None or part.name in self.seen_names:
            return  # duplicates and nameless parts are drained and discarded
        self.seen_names.add(part.name)
        if part.name == "data":
            if part.is_file:
                self.data_missing = True
            else:
                part.role = "data"
        elif part.name == "file":
            if not part.is_file:
                raise InvalidFilePart()  # row 12, decided on the part's headers
            part.role = "file"
            assert disposition.filename is not None
            self.file_name = disposition.filename.decode("utf-8", "surrogateescape")
            raw_type = part.headers.get(b"content-type")
            self.file_content_type = None if raw_type is None else raw_type.decode("latin-1")
            self.file_id = uuid.uuid4()
            self.staged = StagedWrite(
                self.runtime.database,
                self.runtime.storage,
                self.team_id,
                self.key_for(self.file_id),
            )
            await self.staged.start()

    async def _part_data(self, payload: bytes) -> None:
        role = self.part.role
        if role == "data":
            self.data_raw += payload
            if len(self.data_raw) > DATA_LIMIT:
                raise DataFieldTooLarge()
        elif role == "file":
            self.file_size += len(payload)
            if self.file_limit and self.file_size > self.file_limit:
                raise FileTooLarge(self.file_limit)  # row 15, at the first byte beyond the limit
            self.md5.update(payload)
            self.sha256.update(payload)
            assert self.staged is not None
            await self.staged.write(payload)

    async def _end_part(self) -> None:
        if self.part.role == "data":
            self.data = _validated_data(bytes(self.data_raw), self.schema)
        elif self.part.role == "file":
            assert self.staged is not None
            written = await self.staged.finish()
            if written != self.file_size:
                raise StagingFailed("backend size differs from the bytes streamed")
            self.file_done = True
        self.part = _Part()

    def staged_file(self) -> StagedFile | None:
        if self.staged is None or self.file_id is None:
            return None
        return StagedFile(
            file_id=self.file_id,
            write=self.staged,
            raw_name=self.file_name,
            content_type_header=self.file_content_type,
            size=self.file_size,
            md5=self.md5.hexdigest(),
            sha256=self.sha256.hexdigest(),
        )


async def read_upload_form(
    runtime: Runtime,
    request: Request,
    team_id: uuid.UUID,
    max_file_size_mb: int | None,
    schema: Object,
    key_for: Callable[[uuid.UUID], str],
) -> UploadForm:
    """Rows 6–15. On success the caller owns the staged file and must discard it on failure."""
    kind, boundary = _body_kind(request)
    file_limit = _file_limit(runtime, max_file_size_mb)
    body_cap = file_limit + ENVELOPE_ALLOWANCE if file_limit else 0

    declared = request.headers.get("content-length")
    if body_cap and declared is not None and declared.strip().isdigit():  # noqa: SIM102
        if int(declared) > body_cap:
            raise FileTooLarge(file_limit)  # row 7: before any byte is read

    if kind == "urlencoded":
        return await _read_urlencoded(runtime, request, schema)

    if not _BOUNDARY.fullmatch(boundary):
        raise InvalidMultipart()  # RFC 2046: 1–70 boundary characters
    intake = _MultipartIntake(runtime, team_id, schema, file_limit, key_for)
    parser = MultipartParser(boundary, intake.callbacks())  # type: ignore[arg-type]
    total = 0
    try:
        async for chunk in _chunks_with_idle_timeout(request, runtime.settings.upload_idle_timeout):
            total += len(chunk)
            try:
                parser.write(chunk)
            except MultipartParseError:
                await intake.handle_events()
                raise InvalidMultipart() from None
            await intake.handle_events()
            outside_file = total - intake.file_size
            if (body_cap and total > body_cap) or (
                not body_cap and outside_file > ENVELOPE_ALLOWANCE
            ):
                raise BodyTooLarge()  # row 9: bytes outside `file`
            if intake.ended:
                break
        if not intake.ended:
            raise InvalidMultipart()
        if intake.data is None:
            raise MissingDataField()
    except BaseException:
        if intake.staged is not None:
            await intake.staged.abort()
        raise
    return UploadForm(data=intake.data, file=intake.staged_file())


async def _read_urlencoded(runtime: Runtime, request: Request, schema: Object) -> UploadForm:
    raw = bytearray()
    async for chunk in _chunks_with_idle_timeout(request, runtime.settings.upload_idle_timeout):
        raw += chunk
        if len(raw) > DATA_LIMIT:
            raise DataFieldTooLarge()
    try:
        text = bytes(raw).decode("ascii")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise InvalidMultipart() from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    if "data" not in fields:
        raise MissingDataField()
    if "file" in fields:
        raise InvalidFilePart()
    return UploadForm(data=_validated_data(fields["data"].encode("utf-8"), schema), file=None)
