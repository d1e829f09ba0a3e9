"""Merge sort order and SKU

Revision ID: 0010
Revises: 0009a, 0009b
Create Date: 2026-11-24 05:32:48.116582+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = ('0009a', '0009b')
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Nothing to do: a merge revision only joins the two heads 0009a and 0009b into one history.
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass
