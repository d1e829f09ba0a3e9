"""Split stock into stock_levels

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 05:30:58.111782+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# Lightweight snapshots of the two tables as they are *in this migration*, never the app's
# models: the models move on (Product has no "stock" any more), this file must not.
products = sa.table("products", sa.column("id", sa.Integer), sa.column("stock", sa.Integer))
stock_levels = sa.table("stock_levels", sa.column("product_id", sa.Integer), sa.column("quantity", sa.Integer))


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema: move products.stock into the new table stock_levels, keeping every number."""
    op.create_table(
        "stock_levels",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_stock_levels_product_id_products"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_stock_levels")),
    )
    # Autogenerate is blind to data: it only saw "new table" and "dropped column". Copy the
    # numbers in one INSERT ... SELECT (runs inside the database, also in --sql mode) before the drop.
    op.execute(
        stock_levels.insert().from_select(
            ["product_id", "quantity"], sa.select(products.c.id, products.c.stock)
        )
    )
    op.drop_column("products", "stock")


def downgrade() -> None:
    """Downgrade schema: bring products.stock back, filled from stock_levels, then drop the table."""
    # Nullable first: the rows already exist and have no value yet.
    op.add_column("products", sa.Column("stock", sa.Integer(), autoincrement=False, nullable=True))
    # A product without a stock_levels row (added after the split) gets 0.
    quantity = (
        sa.select(stock_levels.c.quantity)
        .where(stock_levels.c.product_id == products.c.id)
        .scalar_subquery()
    )
    op.execute(products.update().values(stock=sa.func.coalesce(quantity, 0)))
    op.alter_column("products", "stock", existing_type=sa.Integer(), nullable=False)
    op.drop_table("stock_levels")
