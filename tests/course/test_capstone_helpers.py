"""course.capstone: where the learner's folder is, its .env, and writing into it without losing anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import URL, make_url

from course import capstone
from course.capstone.steps import STEPS, Edit, reference_files
from course.paths import NOTEBOOKS


def test_the_folder_an_override_a_test_run_and_the_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("COURSE_WORKSPACE_SUFFIX", raising=False)
    monkeypatch.setenv(capstone.ENV_VARIABLE, str(tmp_path / "mine"))
    assert capstone.folder() == (tmp_path / "mine").resolve()
    assert str(tmp_path) in capstone.where()
    given = capstone.database_name()
    monkeypatch.delenv(capstone.ENV_VARIABLE)
    monkeypatch.setenv("COURSE_TEST_KERNELS", str(tmp_path))
    monkeypatch.setenv("COURSE_WORKSPACE_SUFFIX", "-ex16-r25")
    assert capstone.folder() == tmp_path / "capstone" / "my-fastapi-app-ex16-r25"
    in_a_test_run = capstone.database_name()
    monkeypatch.delenv("COURSE_TEST_KERNELS")
    assert capstone.folder() == NOTEBOOKS / "my-fastapi-app-ex16-r25"  # a suffix (the benchmark's) never meets the learner's
    with_a_suffix = capstone.database_name()
    monkeypatch.delenv("COURSE_WORKSPACE_SUFFIX")
    assert capstone.folder() == NOTEBOOKS / "my-fastapi-app"  # never in notebooks/workspaces/, which setup cells reset
    assert capstone.where() == "notebooks/my-fastapi-app/, beside this notebook"
    assert len({given, in_a_test_run, with_a_suffix, capstone.database_name()}) == 4


def test_the_russian_edition_has_a_folder_and_a_database_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    from course import i18n

    for name in ("COURSE_WORKSPACE_SUFFIX", "COURSE_TEST_KERNELS", capstone.ENV_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    english = capstone.folder(), capstone.database_name()
    monkeypatch.setattr(i18n, "_language", "ru")  # as course.setup(..., language="ru") sets it
    assert capstone.folder() == NOTEBOOKS / "my-fastapi-app-ru"  # the same depth: the same relative commands work
    assert capstone.database_name() != english[1] and capstone.folder() != english[0]
    assert "notebooks/my-fastapi-app-ru/" in capstone.where()


def test_the_env_file_keeps_any_password(tmp_path: Path) -> None:
    """The learner's own settings class (step 1) reads back exactly the URL the notebook wrote."""
    password = "p%a@s:s/w'o\\rd #1"
    url = URL.create("postgresql+psycopg", username="me", password=password, host="db", port=5433, database="shop")
    (tmp_path / ".env").write_text(capstone.env_file_text(url), encoding="utf-8")

    class Settings(BaseSettings):  # as in reference/1/app/settings.py
        model_config = SettingsConfigDict(env_prefix="SHOP_", env_file=tmp_path / ".env", extra="ignore")
        database_url: str

    read = make_url(Settings().database_url)
    assert (read.drivername, read.password, read.host, read.port, read.database) == (
        "postgresql+asyncpg",
        password,
        "db",
        5433,
        "shop",
    )
    assert password not in (tmp_path / ".env").read_text(encoding="utf-8")  # percent-encoded in the file


def test_write_and_edit_keep_the_learners_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capstone.write("app/main.py", "# mine\n", tmp_path)
    capstone.write("app/main.py", "# the reference\n", tmp_path)
    assert "yours is kept as .course-attempts/" in capsys.readouterr().out
    kept = list((tmp_path / capstone.ATTEMPTS).rglob("main.py"))
    assert [p.read_text(encoding="utf-8") for p in kept] == ["# mine\n"]
    capstone.write("app/main.py", "# the reference\n", tmp_path)  # the same again: nothing to keep
    assert len(list((tmp_path / capstone.ATTEMPTS).rglob("main.py"))) == 1
    (tmp_path / "env.py").write_text("target_metadata = something_else\n", encoding="utf-8")
    with pytest.raises(capstone.CapstoneError, match="does not contain this text once"):
        capstone.edit("env.py", "target_metadata = None\n", "target_metadata = Base.metadata\n", tmp_path)
    assert (tmp_path / "env.py").read_text(encoding="utf-8") == "target_metadata = something_else\n"


def test_the_edits_fit_what_alembic_init_writes() -> None:
    import alembic

    templates = Path(alembic.__file__).parent / "templates" / "async"
    sources = {
        "alembic.ini": (templates / "alembic.ini.mako").read_text(),
        "migrations/env.py": (templates / "env.py").read_text(),
    }
    edits = [a for s in STEPS for a in s.actions if isinstance(a, Edit)]
    assert edits
    for edit in edits:
        assert sources[edit.path].count(edit.old) == 1, edit.old


def test_the_reference_solution_parses() -> None:
    for path, content in reference_files(len(STEPS)).items():
        if path.endswith(".py"):
            compile(content, path, "exec")
