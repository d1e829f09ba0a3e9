from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.backend.DB_engine import Base

if TYPE_CHECKING:
    from app.models.product import Product


class StockLevel(Base):
    """How many units of one product are in stock (one row per product: one-to-one)."""

    __tablename__ = "stock_levels"

    # The primary key is also the foreign key: a product has at most one stock level.
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    quantity: Mapped[int] = mapped_column(default=0, server_default="0")

    product: Mapped[Product] = relationship(back_populates="stock_level")
