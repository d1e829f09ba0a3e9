"""run.py, the launcher behind the README's two commands, and `python -m course`, what it runs in the venv."""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from course import cli

ROOT = Path(__file__).resolve().parents[2]
# The launcher is a script at the root (it runs before any venv exists), not a package: load it by path.
_spec = importlib.util.spec_from_file_location("run", ROOT / "run.py")
assert _spec is not None and _spec.loader is not None
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)


def test_the_launcher_parses_on_old_pythons_so_it_can_say_what_to_install() -> None:
    ast.parse((ROOT / "run.py").read_text(encoding="utf-8"), feature_version=(3, 6))


def test_help_and_an_unknown_command(tmp_path: Path) -> None:
    helped = subprocess.run([sys.executable, str(ROOT / "run.py"), "help"], capture_output=True, text=True, cwd=tmp_path)
    assert helped.returncode == 0 and "python run.py lab" in helped.stdout and "python run.py test" in helped.stdout
    wrong = subprocess.run([sys.executable, str(ROOT / "run.py"), "tset"], capture_output=True, text=True, cwd=tmp_path)
    assert wrong.returncode == 2 and "unknown command 'tset'" in wrong.stdout


def test_too_old_a_python_with_no_other_one_gets_told_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(run.sys, "version_info", (3, 9, 6, "final", 0))
    monkeypatch.setattr(run.shutil, "which", lambda name: None)  # no python3.1x, no py launcher
    with pytest.raises(SystemExit) as stopped:
        run.suitable_python()
    assert stopped.value.code == 1
    said = capsys.readouterr().out
    assert "needs Python 3.11, 3.12 or 3.13, and this is Python 3.9" in said and "python.org" in said


def test_a_newer_python_on_the_path_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run.sys, "version_info", (3, 9, 6, "final", 0))
    real = str(Path(sys.executable))
    monkeypatch.setattr(run, "WINDOWS", False)
    monkeypatch.setattr(run.shutil, "which", lambda name: real if name == "python3.12" else None)
    monkeypatch.setattr(run, "version_of", lambda command: (3, 12) if command == ["python3.12"] else None)
    assert run.suitable_python() == ["python3.12"]


def test_on_windows_the_py_launcher_is_asked_for_each_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run.sys, "version_info", (3, 10, 11, "final", 0))
    monkeypatch.setattr(run, "WINDOWS", True)
    asked = []
    monkeypatch.setattr(run.shutil, "which", lambda name: "C:\\Windows\\py.exe" if name == "py" else None)
    monkeypatch.setattr(
        run, "version_of", lambda command: asked.append(command) or ((3, 12) if command == ["py", "-3.12"] else None)
    )
    assert run.suitable_python() == ["py", "-3.12"]
    assert asked == [["py", "-3.13"], ["py", "-3.12"]]


def test_jobs_are_taken_out_of_the_test_arguments() -> None:
    assert run.take_jobs(["--jobs", "1", "-k", "settings"]) == ("1", ["-k", "settings"])
    assert run.take_jobs(["--jobs=3"]) == ("3", [])


def test_jupyterlab_opens_notebook_00_without_the_news_popup(tmp_path: Path) -> None:
    argv = cli.lab_command(extra=["--no-browser"])
    assert "--LabApp.default_url=/lab/tree/00-welcome-and-setup.ipynb" in argv
    assert f"--ServerApp.root_dir={ROOT / 'notebooks'}" in argv and argv[-1] == "--no-browser"
    path = cli.install_lab_overrides(tmp_path)
    settings = json.loads(path.read_text(encoding="utf-8"))
    assert settings["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    before = path.stat().st_mtime_ns
    cli.install_lab_overrides(tmp_path)  # idempotent: not rewritten
    assert path.stat().st_mtime_ns == before


def test_lab_lang_ru_opens_the_russian_edition_with_the_interface_in_russian(tmp_path: Path) -> None:
    lang, rest = cli.take_language(["--port", "8899", "--lang", "ru", "--no-browser"])
    assert (lang, rest) == ("ru", ["--port", "8899", "--no-browser"])
    assert cli.take_language(["--lang=ru"]) == ("ru", [])
    argv = cli.lab_command(extra=rest, lang=lang)
    assert "--LabApp.default_url=/lab/tree/ru/00-welcome-and-setup.ipynb" in argv
    assert (ROOT / "notebooks" / "ru" / "00-welcome-and-setup.ipynb").exists(), "the Russian notebook 00 it opens"
    path = cli.install_lab_overrides(tmp_path, lang="ru")
    settings = json.loads(path.read_text(encoding="utf-8"))
    assert settings["@jupyterlab/translation-extension:plugin"]["locale"] == "ru_RU"
    assert settings["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"  # kept
    cli.install_lab_overrides(tmp_path)  # back to English for `run.py lab`
    assert json.loads(path.read_text(encoding="utf-8"))["@jupyterlab/translation-extension:plugin"]["locale"] == "en"
    from jupyterlab_server.translation_utils import get_language_pack

    data, message = get_language_pack("ru_RU")  # the pinned language pack is installed
    assert data and not message, message


def test_lab_with_an_unknown_language_says_which_exist(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.lab(["--lang", "fr"]) == 2
    said = capsys.readouterr().err
    assert "'fr'" in said and '"ru" (Russian)' in said and '"en" (English)' in said


def test_the_venv_has_the_overrides_and_python_m_course_checks_the_database() -> None:
    proc = subprocess.run([sys.executable, "-m", "course", "db"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("Database reachable: "), proc.stderr
    assert subprocess.run([sys.executable, "-m", "course", "nonsense"], capture_output=True, text=True).returncode == 2
