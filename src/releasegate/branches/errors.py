"""Refusals of the branch endpoints (dev-api-releases.md §9)."""

from __future__ import annotations

from releasegate.kit.errors import Conflict, Forbidden, NotFound


class BranchNotFound(NotFound):
    text = "Branch not found"


class BranchNameTaken(Conflict):
    text = "A branch with this name already exists for this product"


class BranchHasReleases(Conflict):
    text = "Branch has releases and cannot be deleted"


class MaxBranchesReached(Forbidden):
    text = "Max branches per product reached"
