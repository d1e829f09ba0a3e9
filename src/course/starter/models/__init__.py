"""Every model of the shop. Importing this package registers them all on ``Base.metadata``.

Alembic's ``env.py`` imports it before reading ``Base.metadata``: a model that is never
imported is invisible to autogenerate.
"""

from app.models.category import Category
from app.models.product import Product

__all__ = ["Category", "Product"]
