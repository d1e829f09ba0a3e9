"""Index products category_id concurrently

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 05:32:10.805197+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # CREATE INDEX CONCURRENTLY does not lock writes on products while it builds, but PostgreSQL
    # refuses to run it inside a transaction block. autocommit_block() commits what ran so far,
    # runs this step outside any transaction, then opens a new transaction for what follows.
    with op.get_context().autocommit_block():
        op.create_index(
            op.f("ix_products_category_id"), "products", ["category_id"], unique=False, postgresql_concurrently=True
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.get_context().autocommit_block():
        op.drop_index(op.f("ix_products_category_id"), table_name="products", postgresql_concurrently=True)
