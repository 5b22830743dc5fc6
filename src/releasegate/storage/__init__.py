"""Object storage behind one small protocol; the backend is chosen by URL. Knows nothing of
releases: keys are opaque strings decided by the caller."""

from releasegate.storage.backend import (
    Leftovers,
    ObjectNotFound,
    OpenedObject,
    Storage,
    open_storage,
)

__all__ = ["Leftovers", "ObjectNotFound", "OpenedObject", "Storage", "open_storage"]
