"""Rename product rating to average_rating

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 05:30:39.361633+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Autogenerate saw a dropped column "rating" and a new column "average_rating": it cannot
    # tell a rename from a drop + add, and drop + add would lose every rating. A rename keeps the data.
    op.alter_column("products", "rating", new_column_name="average_rating")


def downgrade() -> None:
    """Downgrade schema."""
    op.alter_column("products", "average_rating", new_column_name="rating")
