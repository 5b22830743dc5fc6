"""Content-Disposition parameters of a multipart part, including RFC 8187 `filename*`."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote_to_bytes


@dataclass(frozen=True)
class Disposition:
    name: str | None
    filename: bytes | None  # raw bytes, decoded by the caller (`filename*` already applied)

    @property
    def is_file(self) -> bool:
        return self.filename is not None


def _split_params(value: bytes) -> list[tuple[bytes, bytes]]:
    params: list[tuple[bytes, bytes]] = []
    i, n = 0, len(value)
    # Skip the disposition type.
    while i < n and value[i : i + 1] != b";":
        i += 1
    while i < n:
        i += 1  # skip ';'
        while i < n and value[i : i + 1] in b" \t":
            i += 1
        start = i
        while i < n and value[i : i + 1] not in b"=;":
            i += 1
        key = value[start:i].strip().lower()
        if i >= n or value[i : i + 1] == b";":
            if key:
                params.append((key, b""))
            continue
        i += 1  # skip '='
        while i < n and value[i : i + 1] in b" \t":
            i += 1
        if i < n and value[i : i + 1] == b'"':
            i += 1
            out = bytearray()
            while i < n and value[i : i + 1] != b'"':
                # `\"` and `\\` are escapes; any other backslash is literal (Windows paths).
                if value[i : i + 1] == b"\\" and value[i + 1 : i + 2] in (b'"', b"\\"):
                    i += 1
                out += value[i : i + 1]
                i += 1
            i += 1  # closing quote
            while i < n and value[i : i + 1] != b";":
                i += 1
            params.append((key, bytes(out)))
        else:
            start = i
            while i < n and value[i : i + 1] != b";":
                i += 1
            params.append((key, value[start:i].strip()))
    return params


def _decode_ext_value(value: bytes) -> bytes | None:
    """`charset'lang'pct-encoded` → bytes in UTF-8 (only UTF-8 and ASCII charsets are known)."""
    parts = value.split(b"'", 2)
    if len(parts) != 3:
        return None
    charset = parts[0].lower()
    raw = unquote_to_bytes(parts[2])
    if charset in (b"utf-8", b"us-ascii", b""):
        return raw
    if charset == b"iso-8859-1":
        return raw.decode("latin-1").encode("utf-8")
    return None


def parse_disposition(header: bytes) -> Disposition:
    """First occurrence of each parameter wins; `filename*` takes precedence over `filename`."""
    found: dict[bytes, bytes] = {}
    for key, value in _split_params(header):
        found.setdefault(key, value)
    name = found.get(b"name")
    filename: bytes | None = None
    if b"filename*" in found:
        filename = _decode_ext_value(found[b"filename*"])
        if filename is None:
            filename = found.get(b"filename", b"")
    elif b"filename" in found:
        filename = found[b"filename"]
    return Disposition(
        name=None if name is None else name.decode("utf-8", "surrogateescape"),
        filename=filename,
    )
