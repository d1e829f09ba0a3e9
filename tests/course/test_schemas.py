"""course.schemas against the real server: descriptions that compare, and which revision a database matches."""

from __future__ import annotations

from sqlalchemy import text

from course import schemas
from course.database import connect
from course.exercises import probes
from course.workspace import create_workspace

DDL = """
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE things (id serial PRIMARY KEY, name varchar(20) NOT NULL, price integer DEFAULT 0, feeling mood);
CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
"""


def _run(url, sql: str) -> None:
    with connect(url) as conn:
        conn.execute(text(sql))


def test_equal_schemas_compare_equal_whatever_the_column_order_and_alembic_version(fresh_database) -> None:
    _run(fresh_database, DDL)
    first = schemas.describe(fresh_database)
    assert ("column", "things.name") in first.objects and ("enum", "mood") in first.objects
    assert not any("alembic_version" in name for _, name in first.objects)
    _run(
        fresh_database,
        "DROP TABLE alembic_version; ALTER TABLE things DROP COLUMN price; ALTER TABLE things ADD COLUMN price integer DEFAULT 0",
    )
    assert schemas.describe(fresh_database) == first  # price is now the last column: the same schema
    assert first.summary() == "1 table, 4 columns, 1 constraint, 1 index, 1 enum, 1 sequence"


def test_differences_name_every_kind_of_object(fresh_database) -> None:
    _run(fresh_database, DDL)
    before = schemas.describe(fresh_database)
    _run(
        fresh_database,
        """
        ALTER TABLE things ADD CONSTRAINT ck_things_price CHECK (price >= 0);
        ALTER TABLE things ALTER COLUMN name TYPE varchar(40);
        CREATE INDEX ix_things_name ON things (name);
        CREATE VIEW cheap AS SELECT id FROM things WHERE price < 10;
        CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
        CREATE TRIGGER things_touch BEFORE UPDATE ON things FOR EACH ROW EXECUTE FUNCTION touch();
        ALTER TYPE mood ADD VALUE 'calm';
        """,
    )
    found = schemas.differences(before, schemas.describe(fresh_database), ("old", "new"))
    text_found = "\n".join(found)
    assert "only in new: constraint things.ck_things_price (CHECK ((price >= 0)))" in found
    assert "column things.name: old character varying(20) NOT NULL / new character varying(40) NOT NULL" in found
    for expected in ("only in new: index ix_things_name", "only in new: view cheap", "only in new: trigger things.things_touch"):
        assert expected in text_found
    assert "enum mood: old 'happy', 'sad' / new 'happy', 'sad', 'calm'" in found
    assert schemas.differences(before, before) == []


def test_an_unversioned_database_is_matched_to_its_revision_even_on_a_branch() -> None:
    ws = create_workspace("zz-schemas", start="reference-head")
    other = schemas.database_name(ws, "other")
    try:
        schemas.fresh_database(other)
        schemas.alembic_on(ws, other, "upgrade", "0009b")  # one side of the branch only
        schemas.sql_at(other, "DROP TABLE alembic_version")
        assert probes.current(ws) == {"0010"}, "alembic_on must not touch the workspace's own database"
        by_revision = schemas.schemas_by_revision(ws, schemas.database_name(ws, "walk"))
        assert list(by_revision)[0] == "0001" and list(by_revision)[-1] == "0010" and len(by_revision) == 11
        target = schemas.describe(schemas.database_url(other))
        assert schemas.matching_revisions(target, by_revision) == ["0009b"]
        assert schemas.matching_revisions(schemas.describe(ws.sync_url), by_revision) == ["0010"]
        assert schemas.differences(target, by_revision["0009a"]) != []
    finally:
        schemas.drop(other)
    assert not schemas.sql_at(
        ws.database,
        f"SELECT 1 FROM pg_database WHERE datname IN ('{other}', '{schemas.database_name(ws, 'walk')}')",
    )
