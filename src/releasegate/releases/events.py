"""Release webhook events (webhooks-and-audit.md §2–§3), written in the change's transaction.

Payloads are the Release object without `file.key`. `RELEASE_LATEST_CHANGED` compares the latest
release of each affected (product, branch) before and after the change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.releases import repository as repo
from releasegate.releases.views import load_view
from releasegate.runtime import Runtime
from releasegate.webhooks.models import EventType
from releasegate.webhooks.outbox import emit, has_subscribers

BranchKey = tuple[uuid.UUID, uuid.UUID | None]


def release_event_payload(release_json: dict[str, object]) -> dict[str, object]:
    """A Release object as a response shows it, minus `file.key` (never sent to receivers)."""
    payload = dict(release_json)
    file = payload.get("file")
    if isinstance(file, dict):
        payload["file"] = {name: value for name, value in file.items() if name != "key"}
    return payload


@dataclass
class LatestWatch:
    """Snapshot the latest release of some (product, branch) pairs, then report changes.

    Does nothing (and costs one query) when no webhook of the team listens for the event.
    """

    session: AsyncSession
    runtime: Runtime
    team_id: uuid.UUID
    active: bool = False
    before: dict[BranchKey, tuple[uuid.UUID, dict[str, object]] | None] = field(
        default_factory=dict
    )

    @classmethod
    async def start(
        cls, session: AsyncSession, runtime: Runtime, team_id: uuid.UUID, pairs: list[BranchKey]
    ) -> LatestWatch:
        watch = cls(session, runtime, team_id)
        watch.active = await has_subscribers(session, team_id, EventType.RELEASE_LATEST_CHANGED)
        if watch.active:
            for pair in dict.fromkeys(pairs):
                watch.before[pair] = await watch._latest(pair)
        return watch

    async def _latest(self, pair: BranchKey) -> tuple[uuid.UUID, dict[str, object]] | None:
        current = await repo.current_latest(self.session, *pair)
        if current is None:
            return None
        view = await load_view(self.session, self.team_id, current.id)
        assert view is not None
        return current.id, view.payload()

    async def emit_changes(self) -> None:
        """One LatestChange event per pair whose latest release changed (§2)."""
        if not self.active:
            return
        await self.session.flush()
        for (product_id, branch_id), previous in self.before.items():
            current = await self._latest((product_id, branch_id))
            if (previous and previous[0]) == (current and current[0]):
                continue
            payload: dict[str, object] = {
                "productId": str(product_id),
                "branchId": None if branch_id is None else str(branch_id),
                "previous": None if previous is None else previous[1],
                "current": None if current is None else current[1],
            }
            await emit(
                self.session, self.runtime, self.team_id, EventType.RELEASE_LATEST_CHANGED, payload
            )
