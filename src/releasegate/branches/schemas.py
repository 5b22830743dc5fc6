"""Branch body schema (dev-api-releases.md §9)."""

from __future__ import annotations

from releasegate.kit.validation import Field, Object, String
from releasegate.products.schemas import name_field

CREATE_BRANCH = Object({"name": name_field(), "productId": Field(String(uuid=True))})
UPDATE_BRANCH = Object({"name": name_field()})
