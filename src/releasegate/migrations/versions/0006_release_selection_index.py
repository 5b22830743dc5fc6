"""release selection index

Client selection asks "is there a PUBLISHED release in this (product, branch)?" on every verify;
with this index it costs the same at 100k releases as at 1k.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_releases_product_id_branch_key_status",
        "releases",
        [
            "product_id",
            sa.literal_column("coalesce(branch_id, '00000000-0000-0000-0000-000000000000')"),
            "status",
        ],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_releases_product_id_branch_key_status", table_name="releases")
