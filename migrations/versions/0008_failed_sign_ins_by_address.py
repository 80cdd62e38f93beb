"""Failed sign-ins counted by client address too, so that one address trying many usernames
(password spraying) is slowed as one username tried many times is.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "failed_sign_ins_by_address",
        sa.Column("address", sa.String(100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address", name="pk_failed_sign_ins_by_address"),
    )
    # Who tried to sign in from where is not the analysts' to read (0003 lets them read every
    # new table): like failed_sign_ins (0007).
    op.execute("REVOKE ALL ON failed_sign_ins_by_address FROM econsult_analyst")


def downgrade() -> None:
    op.drop_table("failed_sign_ins_by_address")
