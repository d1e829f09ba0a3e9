from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, Enum, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.backend.DB_engine import Base

if TYPE_CHECKING:
    from app.models.category import Category
    from app.models.review import Review
    from app.models.stock_level import StockLevel


class ProductStatus(enum.Enum):
    """Where a product is in its life. PostgreSQL stores the values in the native ENUM type product_status."""

    # Member names equal their values: SQLAlchemy's Enum stores the *names* by default.
    draft = "draft"
    active = "active"
    archived = "archived"


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200), unique=True, index=True)
    sku: Mapped[str | None] = mapped_column(String(64), unique=True)  # constraint uq_products_sku
    description: Mapped[str | None]
    price: Mapped[int]  # in cents: money is never a float
    image_url: Mapped[str | None]
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    average_rating: Mapped[float] = mapped_column(default=0.0)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    status: Mapped[ProductStatus] = mapped_column(
        Enum(ProductStatus, name="product_status"),
        default=ProductStatus.active,
        server_default=ProductStatus.active.value,
    )

    category: Mapped[Category | None] = relationship(back_populates="products")
    # ON DELETE CASCADE in the database; passive_deletes lets PostgreSQL remove the reviews.
    reviews: Mapped[list[Review]] = relationship(back_populates="product", cascade="all, delete-orphan", passive_deletes=True)
    # One-to-one: a scalar Mapped[...] (not a list) makes SQLAlchemy use uselist=False.
    stock_level: Mapped[StockLevel | None] = relationship(
        back_populates="product", cascade="all, delete-orphan", passive_deletes=True
    )
