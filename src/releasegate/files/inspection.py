"""What a staged file is: its stored name, content type and JAR main class
(files-and-storage.md §2, §5). Rows 27–29 of create (29–31 of update)."""

from __future__ import annotations

from dataclasses import dataclass

from releasegate.files.errors import InvalidFileName, MainClassNotFound, MissingExtension
from releasegate.files.intake import StagedFile
from releasegate.files.jar import find_main_class
from releasegate.files.names import content_type_of, extension_of, is_valid_name, stored_name
from releasegate.runtime import Runtime
from releasegate.storage.range_reader import StorageRangeReader


@dataclass(frozen=True)
class FileFacts:
    name: str
    content_type: str
    main_class_name: str | None


async def inspect(runtime: Runtime, staged: StagedFile, *, allow_plain_jars: bool) -> FileFacts:
    """The name, then the extension, then (for a JAR) the main class, read by ranged reads."""
    name = stored_name(staged.raw_name)
    if not is_valid_name(name):
        raise InvalidFileName()
    extension = extension_of(name)
    if extension is None:
        raise MissingExtension()
    main_class = None
    if extension.lower() == "jar":
        reader = StorageRangeReader(runtime.storage, staged.key, staged.size)
        main_class = await find_main_class(reader)
        if main_class is None and not allow_plain_jars:
            raise MainClassNotFound()
    return FileFacts(name, content_type_of(staged.content_type_header), main_class)
