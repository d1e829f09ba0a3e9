"""Add product status enum

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 05:31:35.241593+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# The type as it is in this migration (not imported from the app). create_type=False: the
# column must not try to create it; we create and drop it ourselves, explicitly.
product_status = postgresql.ENUM("draft", "active", "archived", name="product_status", create_type=False)


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Autogenerate only wrote add_column: on PostgreSQL, ADD COLUMN does not create the type.
    product_status.create(op.get_bind(), checkfirst=False)
    op.add_column(
        "products",
        sa.Column("status", product_status, server_default="active", nullable=False),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column("products", "status")
    # Dropping the column leaves the type behind; without this, the next upgrade fails with
    # 'type "product_status" already exists'.
    product_status.drop(op.get_bind(), checkfirst=False)
