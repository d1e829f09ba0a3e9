"""The endpoints, called through httpx's AsyncClient against a migrated database."""

import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.schema_check import DatabaseNotAtHead, require_head

pytestmark = pytest.mark.anyio


async def test_create_and_list_categories(client):
    created = await client.post("/categories", json={"name": "Books"})
    assert created.status_code == 201
    assert (await client.get("/categories")).json() == [created.json()]


async def test_products_in_stock(client):
    books = (await client.post("/categories", json={"name": "Books"})).json()
    for name, stock in [("SQL Antipatterns", 3), ("Out of print", 0)]:
        product = {"name": name, "price_cents": 3500, "category_id": books["id"], "stock": stock}
        assert (await client.post("/products", json=product)).status_code == 201
    assert len((await client.get("/products")).json()) == 2
    assert [p["name"] for p in (await client.get("/products/in-stock")).json()] == ["SQL Antipatterns"]


async def test_an_empty_database_is_refused(test_database_url):
    engine = create_async_engine(test_database_url, poolclass=NullPool)
    try:
        with pytest.raises(DatabaseNotAtHead, match="upgrade head"):
            await require_head(engine)
    finally:
        await engine.dispose()
