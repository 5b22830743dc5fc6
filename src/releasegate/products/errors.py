"""Refusals of the product endpoints (dev-api-releases.md §10)."""

from __future__ import annotations

from releasegate.kit.errors import Conflict, Forbidden, Invalid, NotFound


class ProductNotFound(NotFound):
    text = "Product not found"
    code = "PRODUCT_NOT_FOUND"


class ProductNameTaken(Conflict):
    text = "A product with this name already exists"


class MaxProductsReached(Forbidden):
    text = "Max products reached"


class ProductHasReleases(Conflict):
    text = "Product has releases and cannot be deleted"


class InvalidProductId(Invalid):
    """A list query (releases, branches) names no valid product."""

    text = "Invalid or missing productId"
