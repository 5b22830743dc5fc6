"""Branch bodies (dev-api-releases.md §9) and the typed inputs the service takes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from releasegate.kit.validation import Field, Object, String
from releasegate.products.schemas import name_field

CREATE_BRANCH = Object({"name": name_field(), "productId": Field(String(uuid=True))})
UPDATE_BRANCH = Object({"name": name_field()})


@dataclass(frozen=True)
class NewBranch:
    """`request` is the validated body the audit row records."""

    name: str
    product_id: uuid.UUID
    request: Mapping[str, Any]

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> NewBranch:
        return cls(body["name"], uuid.UUID(body["productId"]), body)


@dataclass(frozen=True)
class BranchRename:
    name: str
    request: Mapping[str, Any]

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> BranchRename:
        return cls(body["name"], body)
