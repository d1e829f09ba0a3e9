"""Data through the reference migrations: what autogenerate cannot check.

pytest-alembic's built-in tests (test_reference_migrations.py) prove that every revision runs
up and down on an *empty* database. These tests put rows in first and check the numbers:

- 0005 renames products.rating: the ratings must survive (drop + add would lose them);
- 0006 moves products.stock into stock_levels: every quantity must arrive, and must come back
  on downgrade, and arrive again on the next upgrade;
- 0007 creates the ENUM type product_status: its downgrade must drop the type, or the next
  upgrade fails with 'type "product_status" already exists'.

``alembic_runner`` migrates a fresh database (conftest's ``alembic_engine``); a plain synchronous
engine on the same database reads and writes the rows between the steps.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

# Known stock values, including the edge cases 0 and a large number. id -> stock.
STOCK = {1: 12, 2: 0, 3: 7, 4: 250_000, 5: 1, 6: 42, 7: 3}
RATINGS = {1: 4.5, 2: 0.0, 3: 3.25, 4: 5.0, 5: 1.0, 6: 2.75, 7: 4.0}
CATEGORY_OF = {1: 1, 2: 1, 3: 2, 4: 2, 5: None, 6: 1, 7: 2}  # None: a product without a category


def expected_summary(stock: dict[int, int]) -> tuple[int, int, str]:
    """(row count, sum of quantities, "id:quantity,..." ordered by id): what the database must report."""
    return len(stock), sum(stock.values()), ",".join(f"{pid}:{qty}" for pid, qty in sorted(stock.items()))


SUMMARY_OF_STOCK_LEVELS = text(
    "SELECT count(*), coalesce(sum(quantity), 0), "
    "string_agg(product_id || ':' || quantity, ',' ORDER BY product_id) FROM stock_levels"
)
SUMMARY_OF_PRODUCTS_STOCK = text(
    "SELECT count(*), coalesce(sum(stock), 0), string_agg(id || ':' || stock, ',' ORDER BY id) FROM products"
)
COLUMNS_OF = text(
    "SELECT column_name FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_name = :table ORDER BY column_name"
)
TABLE_EXISTS = text("SELECT to_regclass('stock_levels') IS NOT NULL")
PRODUCT_STATUS_TYPE_EXISTS = text("SELECT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'product_status')")


@pytest.fixture
def db(fresh_database) -> Iterator[Engine]:
    """A sync engine on the database alembic_runner migrates. NullPool: no idle connection keeps
    a lock that a migration (DROP COLUMN, DROP TABLE) would wait for."""
    engine = create_engine(fresh_database, poolclass=NullPool)
    yield engine
    engine.dispose()


def columns(db: Engine, table: str) -> list[str]:
    with db.connect() as conn:
        return list(conn.execute(COLUMNS_OF, {"table": table}).scalars())


def insert_categories(db: Engine) -> None:
    with db.begin() as conn:
        conn.execute(
            text("INSERT INTO categories (id, name, slug, is_active) VALUES (:id, :name, :slug, true)"),
            [{"id": 1, "name": "Books", "slug": "books"}, {"id": 2, "name": "Games", "slug": "games"}],
        )


def test_ratings_survive_the_rename(alembic_runner, db: Engine) -> None:
    alembic_runner.migrate_up_to("0004")
    insert_categories(db)
    with db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO products (id, name, slug, price, stock, category_id, rating, is_active) "
                "VALUES (:id, :name, :slug, 100, 1, :category_id, :rating, true)"
            ),
            [
                {"id": pid, "name": f"P{pid}", "slug": f"p{pid}", "category_id": CATEGORY_OF[pid], "rating": rating}
                for pid, rating in RATINGS.items()
            ],
        )

    alembic_runner.migrate_up_to("0005")
    assert "average_rating" in columns(db, "products") and "rating" not in columns(db, "products")
    with db.connect() as conn:
        assert dict(conn.execute(text("SELECT id, average_rating FROM products")).all()) == RATINGS

    alembic_runner.migrate_down_to("0004")
    assert "rating" in columns(db, "products") and "average_rating" not in columns(db, "products")
    with db.connect() as conn:
        assert dict(conn.execute(text("SELECT id, rating FROM products")).all()) == RATINGS


def test_stock_survives_the_split_migrations_downgrade_and_upgrade(alembic_runner, db: Engine) -> None:
    alembic_runner.migrate_up_to("0005")
    assert alembic_runner.current == "0005"
    insert_categories(db)
    with db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO products (id, name, slug, price, stock, category_id, average_rating, is_active) "
                "VALUES (:id, :name, :slug, 999, :stock, :category_id, 0, true)"
            ),
            [
                {"id": pid, "name": f"Product {pid}", "slug": f"product-{pid}", "stock": qty, "category_id": CATEGORY_OF[pid]}
                for pid, qty in STOCK.items()
            ],
        )
    with db.connect() as conn:  # the starting point, read back from the database
        assert tuple(conn.execute(SUMMARY_OF_PRODUCTS_STOCK).one()) == expected_summary(STOCK)

    # Up through the split: every quantity is in stock_levels, and products.stock is gone.
    alembic_runner.migrate_up_to("0006")
    assert alembic_runner.current == "0006"
    assert "stock" not in columns(db, "products")
    with db.connect() as conn:
        assert tuple(conn.execute(SUMMARY_OF_STOCK_LEVELS).one()) == expected_summary(STOCK)

    # Down again: products.stock is back with the original numbers, stock_levels is gone.
    alembic_runner.migrate_down_to("0005")
    assert alembic_runner.current == "0005"
    with db.connect() as conn:
        assert conn.execute(TABLE_EXISTS).scalar() is False
        assert dict(conn.execute(text("SELECT id, stock FROM products")).all()) == STOCK
        assert tuple(conn.execute(SUMMARY_OF_PRODUCTS_STOCK).one()) == expected_summary(STOCK)

    # And up once more: the same numbers again, nothing lost or doubled on the second trip.
    alembic_runner.migrate_up_to("0006")
    with db.connect() as conn:
        assert tuple(conn.execute(SUMMARY_OF_STOCK_LEVELS).one()) == expected_summary(STOCK)

    # The rest of the chain (ENUM, concurrent index, both branches, merge) leaves them alone.
    alembic_runner.migrate_up_to("heads")
    assert alembic_runner.current == "0010"
    with db.connect() as conn:
        assert tuple(conn.execute(SUMMARY_OF_STOCK_LEVELS).one()) == expected_summary(STOCK)
        # 0007's server default filled the new NOT NULL column for the rows that already existed.
        assert conn.execute(text("SELECT array_agg(DISTINCT status::text) FROM products")).scalar() == ["active"]


def test_a_product_added_after_the_split_gets_stock_zero_on_downgrade(alembic_runner, db: Engine) -> None:
    alembic_runner.migrate_up_to("0006")
    insert_categories(db)
    with db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO products (id, name, slug, price, category_id, average_rating, is_active) "
                "VALUES (1, 'Counted', 'counted', 100, 1, 0, true), (2, 'Never counted', 'never-counted', 100, 2, 0, true)"
            )
        )
        conn.execute(text("INSERT INTO stock_levels (product_id, quantity) VALUES (1, 5)"))

    alembic_runner.migrate_down_to("0005")  # products.stock is NOT NULL again: product 2 needs a value
    with db.connect() as conn:
        assert dict(conn.execute(text("SELECT id, stock FROM products")).all()) == {1: 5, 2: 0}


def test_the_enum_downgrade_drops_the_type(alembic_runner, db: Engine) -> None:
    def type_exists() -> bool:
        with db.connect() as conn:
            return bool(conn.execute(PRODUCT_STATUS_TYPE_EXISTS).scalar())

    alembic_runner.migrate_up_to("0006")
    assert not type_exists()
    alembic_runner.migrate_up_to("0007")
    assert type_exists() and "status" in columns(db, "products")

    # Twice in a row: an upgrade after a downgrade would fail with 'type "product_status" already
    # exists' if the downgrade only dropped the column.
    for _ in range(2):
        alembic_runner.migrate_down_to("0006")
        assert alembic_runner.current == "0006"
        assert not type_exists()
        assert "status" not in columns(db, "products")
        alembic_runner.migrate_up_to("0007")
        assert alembic_runner.current == "0007"
        assert type_exists()
    with db.connect() as conn:
        labels = conn.execute(
            text(
                "SELECT array_agg(enumlabel::text ORDER BY enumsortorder) FROM pg_enum e "
                "JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = 'product_status'"
            )
        ).scalar()
    assert labels == ["draft", "active", "archived"]
