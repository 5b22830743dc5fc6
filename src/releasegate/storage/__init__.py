"""Object storage behind one small protocol; the backend is chosen by URL."""

from releasegate.storage.backend import ObjectNotFound, OpenedObject, Storage, open_storage
from releasegate.storage.keys import release_file_key

__all__ = ["ObjectNotFound", "OpenedObject", "Storage", "open_storage", "release_file_key"]
