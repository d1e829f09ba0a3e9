"""Excerpts by name: a function, a method, an INI option or section, a marked region."""

from __future__ import annotations

from pathlib import Path

import pytest

from course.show import excerpt_span

PY = '''"""A module."""

import os

# The answer, explained
# over two comment lines.
ANSWER = 42


@staticmethod
def helper() -> int:
    return 1


class Shop:
    def total(self) -> int:
        return 2
        # ### end of total ###

    # region checkout
    def pay(self) -> None:
        pass
    # endregion
'''

INI = """[alembic]
# where the scripts are
script_location = here

# template for names
# file_template = %%(rev)s
# more about it

[loggers]
keys = root

[handlers]
keys = console
"""


def span(tmp_path: Path, name: str, text: str = PY, suffix: str = ".py") -> str:
    path = tmp_path / f"f{suffix}"
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    first, last = excerpt_span(path, lines, name)
    return "\n".join(lines[first:last])


def test_python_names_come_with_their_comments_and_decorators(tmp_path: Path) -> None:
    assert span(tmp_path, "ANSWER") == "# The answer, explained\n# over two comment lines.\nANSWER = 42"
    assert span(tmp_path, "helper").startswith("@staticmethod\ndef helper()")
    assert span(tmp_path, "Shop.total") == "    def total(self) -> int:\n        return 2\n        # ### end of total ###"
    assert span(tmp_path, "__doc__") == '"""A module."""'


def test_ini_options_show_their_paragraph_and_sections_their_body(tmp_path: Path) -> None:
    assert span(tmp_path, "script_location", INI, ".ini") == "[alembic]\n# where the scripts are\nscript_location = here"
    assert span(tmp_path, "file_template", INI, ".ini") == "# template for names\n# file_template = %%(rev)s\n# more about it"
    assert span(tmp_path, "[loggers]", INI, ".ini") == "[loggers]\nkeys = root"


def test_an_unknown_name_says_what_is_there(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no definition named 'Shop.refund'.*Names there: pay, total"):
        span(tmp_path, "Shop.refund")
    with pytest.raises(ValueError, match="no section named"):
        span(tmp_path, "[nowhere]", INI, ".ini")


def test_regions_and_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import course.show

    shown: list[str] = []
    monkeypatch.setattr(course.show, "display", lambda obj: shown.append(obj.data))
    path = tmp_path / "f.py"
    path.write_text(PY, encoding="utf-8")
    course.show.show_file(path, region="checkout")
    assert shown[1] == "```python\n    def pay(self) -> None:\n        pass\n```"
    course.show.show_file(path, "ANSWER", through="helper")
    assert shown[3].startswith("```python\n# The answer") and shown[3].endswith("    return 1\n```")
