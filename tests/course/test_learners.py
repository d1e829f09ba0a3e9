"""A server several learners share: per-learner database names, and each learner's databases closed to the others.

The refusals asserted here are the server's (PostgreSQL's privileges), not a check of the course's.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from sqlalchemy import URL, create_engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.pool import NullPool

from course.database import (
    MAX_IDENTIFIER,
    DatabaseUnavailable,
    ServerSettings,
    connect,
    database_name_for,
    database_prefix,
    drop_course_databases,
    drop_database,
    learner_namespace,
    recreate_database,
    server_settings,
)

HOSTILE = ["o'brien", "O'Brien", "o_brien", "a.b-c", "a_b_c", "Ünïcode", "Unicode", "x" * 70, "x" * 71, "Иван", "李"]
NOTEBOOKS = ["00-welcome-and-setup", "08-renames-and-data-migrations-ex08.2-answers", "start-shop-with-data-0123456789ab"]


def _as_learner(who: str, **more: str) -> ServerSettings:
    """This server's settings, for learner ``who``."""
    return server_settings().model_copy(update={"COURSE_LEARNER": who, **more})


def test_a_learner_alone_on_the_embedded_server_sees_no_change() -> None:
    alone = server_settings({})  # nothing configured: the embedded server
    assert learner_namespace(alone, environ={"JUPYTERHUB_USER": "ivan"}) == ""
    assert database_name_for("03-configure-async-env", alone) == "course_03_configure_async_env"
    assert database_prefix(alone) == "course_"


def test_a_shared_server_defaults_to_the_hub_user_then_the_os_user() -> None:
    shared = server_settings({"DB_HOST": "db.example"})
    assert learner_namespace(shared, environ={"JUPYTERHUB_USER": "ivan"}).startswith("ivan_")
    assert learner_namespace(shared, environ={}) != ""  # the OS user
    assert learner_namespace(shared.model_copy(update={"COURSE_LEARNER": "maria"})).startswith("maria_")


def test_hostile_user_names_give_distinct_valid_names_the_server_accepts() -> None:
    names = {(who, nb): database_name_for(nb, _as_learner(who)) for who in HOSTILE for nb in NOTEBOOKS}
    assert len(set(names.values())) == len(names), "two learners (or two notebooks) would share a database"
    for name in names.values():
        assert re.fullmatch(r"[a-z0-9_]+", name) and len(name.encode()) <= MAX_IDENTIFIER, name
    # and PostgreSQL takes them as they are (no truncation: it would cut silently at 63 bytes)
    some = [names[(who, NOTEBOOKS[1])] for who in ("o'brien", "a.b-c", "Ünïcode", "x" * 70)]
    try:
        for name in some:
            recreate_database(name)
        with connect(server_settings().url) as conn:
            found = conn.execute(text("SELECT datname FROM pg_database WHERE datname = ANY(:n)"), {"n": some}).scalars()
            assert sorted(found) == sorted(some)
    finally:
        for name in some:
            drop_database(name)


@pytest.fixture
def two_learners() -> Iterator[tuple[ServerSettings, ServerSettings]]:
    """Two login roles with CREATEDB and nothing more, as tools/classroom.py makes them; dropped afterwards."""
    admin = server_settings()
    suffix = uuid.uuid4().hex[:6]
    roles = [f"zz_learner_a_{suffix}", f"zz_learner_b_{suffix}"]
    learners = []
    with connect(admin.url, autocommit=True) as conn:
        for role in roles:
            password = secrets.token_urlsafe(16)
            conn.execute(text(f"CREATE ROLE {role} LOGIN CREATEDB PASSWORD '{password}'"))
            if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = 'password_login'")).scalar():
                conn.execute(text(f"GRANT password_login TO {role}"))  # the embedded server: passwords, like a shared one
            url = admin.url.set(username=role, password=password)
            learners.append(admin.model_copy(update={"DATABASE_URL": _secret(url), "COURSE_LEARNER": role, "DB_HOST": None}))
    yield learners[0], learners[1]
    for learner in learners:  # each drops their own (the admin may not be a superuser: CI's role is not)
        with connect(learner.url, autocommit=True) as conn:
            owned = conn.execute(
                text("SELECT datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = current_user)")
            ).scalars()
            for name in list(owned):
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    from course.database import _ENGINES

    for key in [k for k in _ENGINES if any(role in k[0] for role in roles)]:
        _ENGINES.pop(key).dispose()  # the pooled connections of the roles about to go
    with connect(admin.url, autocommit=True) as conn:
        for role in roles:
            conn.execute(text(f"DROP ROLE {role}"))


def _secret(url: URL) -> SecretStr:
    """A URL as the DATABASE_URL setting holds it."""
    return SecretStr(url.render_as_string(hide_password=False))


def test_one_learners_databases_are_closed_to_another(two_learners: tuple[ServerSettings, ServerSettings]) -> None:
    a, b = two_learners
    name_a = database_name_for("07-evolving-the-schema", a)
    assert name_a != database_name_for("07-evolving-the-schema", b)
    url_a = recreate_database(name_a, a)  # as learner a
    with connect(url_a) as conn:
        conn.execute(text("CREATE TABLE secrets (id int)"))

    url_b_on_a = b.url.set(database=name_a)  # learner b, knocking on a's database
    engine = create_engine(url_b_on_a, poolclass=NullPool)
    with pytest.raises(OperationalError, match="permission denied for database"):
        engine.connect()  # connecting (and so listing its tables) is refused by the server
    engine.dispose()
    with connect(b.url, autocommit=True) as conn, pytest.raises(ProgrammingError, match="must be owner"):
        conn.execute(text(f'DROP DATABASE "{name_a}"'))
    # the course says so in plain words, rather than a traceback
    with pytest.raises(DatabaseUnavailable, match="another learner's"), connect(url_b_on_a):
        pass
    # and a's own access is untouched
    with connect(url_a) as conn:
        assert conn.execute(text("SELECT count(*) FROM secrets")).scalar() == 0


def test_a_learners_clean_up_drops_their_databases_and_nobody_elses() -> None:
    ivan, maria = _as_learner(f"ivan-{uuid.uuid4().hex[:4]}"), _as_learner(f"maria-{uuid.uuid4().hex[:4]}")
    mine = [database_name_for(nb, ivan) for nb in ("00-welcome-and-setup", "07-evolving-the-schema")]
    theirs = database_name_for("00-welcome-and-setup", maria)
    try:
        for name in [*mine, theirs]:
            recreate_database(name)
        assert drop_course_databases(ivan) == sorted(mine)  # what `python run.py clean` drops, as ivan
        with connect(server_settings().url) as conn:
            left = conn.execute(text("SELECT datname FROM pg_database WHERE datname = ANY(:n)"), {"n": [*mine, theirs]})
            assert list(left.scalars()) == [theirs]
    finally:
        drop_course_databases(maria)
