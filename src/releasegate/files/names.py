"""Rules for an uploaded file's name, extension and content type (files-and-storage.md §2)."""

from __future__ import annotations

import re

_EXTENSION = re.compile(r"^[A-Za-z0-9]{1,32}$")
_MEDIA_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"  # noqa: S105 (an RFC 9110 token, not a secret)
_MEDIA_TYPE = re.compile(rf"^\s*({_MEDIA_TOKEN})/({_MEDIA_TOKEN})\s*(;.*)?$", re.DOTALL)


def stored_name(raw: str) -> str:
    """Everything after the last `/` or `\\` (clients sometimes send paths)."""
    cut = max(raw.rfind("/"), raw.rfind("\\"))
    return raw[cut + 1 :]


def is_valid_name(name: str) -> bool:
    """No control characters, no lone surrogates (invalid UTF-8), at most 255 characters."""
    if len(name) > 255:
        return False
    for char in name:
        code = ord(char)
        if code <= 0x1F or code == 0x7F or 0xD800 <= code <= 0xDFFF:
            return False
    return True


def extension_of(name: str) -> str | None:
    """The extension when the name has a valid one (§2.4), else None."""
    dot = name.rfind(".")
    if dot <= 0:
        return None
    extension = name[dot + 1 :]
    return extension if _EXTENSION.fullmatch(extension) else None


def content_type_of(header: str | None) -> str:
    """`type/subtype` in lowercase when syntactically valid, else application/octet-stream."""
    if header:
        match = _MEDIA_TYPE.match(header)
        if match:
            return f"{match.group(1)}/{match.group(2)}".lower()
    return "application/octet-stream"
