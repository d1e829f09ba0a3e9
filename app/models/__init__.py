"""Every model of the shop. Importing this package registers them all on ``Base.metadata``.

Alembic's ``env.py`` imports it before reading ``Base.metadata``: a model that is never
imported is invisible to autogenerate.
"""

from app.models.category import Category
from app.models.product import Product, ProductStatus
from app.models.review import Review
from app.models.stock_level import StockLevel

__all__ = ["Category", "Product", "ProductStatus", "Review", "StockLevel"]
