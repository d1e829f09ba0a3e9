"""The course's server: settings from the environment, clear errors, the embedded default."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from course.database import DatabaseUnavailable, check_server, connect, server_settings


def test_explicit_settings_ignore_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A learner's exported DATABASE_URL must not win over settings a caller gives explicitly."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone:secret@elsewhere:5555/theirs")
    settings = server_settings({"DB_HOST": "127.0.0.1", "DB_PORT": "1"})
    assert settings.DATABASE_URL is None
    assert (settings.url.host, settings.url.port) == ("127.0.0.1", 1)


def test_an_unreachable_database_raises_a_short_message() -> None:
    settings = server_settings({"DB_HOST": "127.0.0.1", "DB_PORT": "1", "DB_PASS": "top-secret"})
    with pytest.raises(DatabaseUnavailable) as caught:
        check_server(settings)
    message = str(caught.value)
    assert message.startswith("Cannot connect to the database.")
    assert len(message.splitlines()) <= 6
    assert "top-secret" not in message
    assert "no PostgreSQL server answered" in message and "DB_HOST / DB_PORT" in message
    assert caught.value._render_traceback_() == [message]  # IPython shows only these lines


def test_unknown_host_names_the_setting_to_change() -> None:
    settings = server_settings({"DB_HOST": "no-such-host.invalid", "DB_PASS": "top-secret"})
    with pytest.raises(DatabaseUnavailable, match="DB_HOST"):
        check_server(settings)


def test_the_course_server_is_reachable() -> None:
    version = check_server()
    assert version.split(".")[0].isdigit()
    with connect(server_settings().url) as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
