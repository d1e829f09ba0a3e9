"""A server several learners share: per-learner database names, and each learner's databases closed to the others.

The refusals between two learners' roles are in tests/tools/test_classroom.py (roles made by the instructor's script).
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy import text

from course.database import (
    MAX_IDENTIFIER,
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
