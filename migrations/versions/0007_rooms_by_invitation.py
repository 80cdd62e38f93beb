"""Rooms only for the invited: accounts with a role, sign-ins kept on the server, failed
sign-ins counted, rooms and their invitations.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)
ACCOUNT_ROLE = postgresql.ENUM("consultant", "manager", name="account_role", create_type=False)
ROOM_KIND = postgresql.ENUM("consultation", "class", name="room_kind", create_type=False)
PARTICIPANT_ROLE = postgresql.ENUM(name="participant_role", create_type=False)
# Tables analysts may not read: who signs in, and the hashes of live links into rooms.
PRIVATE = ("sign_ins", "failed_sign_ins", "invitations")


def upgrade() -> None:
    ACCOUNT_ROLE.create(op.get_bind())
    ROOM_KIND.create(op.get_bind())
    # Every account before this revision was a dashboard user: a manager.
    op.add_column("users", sa.Column("role", ACCOUNT_ROLE, nullable=False,
                                     server_default="manager"))
    op.alter_column("users", "role", server_default=None)
    op.create_table(
        "sign_ins",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False, server_default=sa.text("now()")),
        sa.Column("expires_at", Timestamp, nullable=False),
        sa.Column("ended_at", Timestamp, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_sign_ins_user_id_users"),
        sa.PrimaryKeyConstraint("token_hash", name="pk_sign_ins"),
    )
    op.create_table(
        "failed_sign_ins",
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("username", name="pk_failed_sign_ins"),
    )
    op.create_table(
        "rooms",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", ROOM_KIND, nullable=False),
        sa.Column("consultant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False, server_default=sa.text("now()")),
        sa.Column("closed_at", Timestamp, nullable=True),
        sa.ForeignKeyConstraint(["consultant_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_rooms_consultant_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_rooms"),
    )
    op.create_index("uq_rooms_open_name", "rooms", ["name"], unique=True,
                    postgresql_where=sa.text("closed_at IS NULL"))
    op.create_table(
        "invitations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("room_id", sa.Uuid(), nullable=False),
        sa.Column("role", PARTICIPANT_ROLE, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False, server_default=sa.text("now()")),
        sa.Column("expires_at", Timestamp, nullable=False),
        sa.Column("revoked_at", Timestamp, nullable=True),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], ondelete="CASCADE",
                                name="fk_invitations_room_id_rooms"),
        sa.PrimaryKeyConstraint("id", name="pk_invitations"),
        sa.UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
    )
    op.create_index("ix_invitations_room", "invitations", ["room_id"])
    for table in PRIVATE:
        op.execute(f"REVOKE ALL ON {table} FROM econsult_analyst")


def downgrade() -> None:
    op.drop_table("invitations")
    op.drop_table("rooms")
    op.drop_table("failed_sign_ins")
    op.drop_table("sign_ins")
    op.drop_column("users", "role")
    ROOM_KIND.drop(op.get_bind())
    ACCOUNT_ROLE.drop(op.get_bind())
