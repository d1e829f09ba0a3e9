"""Edits from a notebook: by name or by text, each safe to run twice, with clear messages otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from course import edits

MODEL = """class Product:
    # in cents: money is never a float
    price: int

    def total(self) -> int:
        return self.price
"""


@pytest.fixture
def model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(edits, "show_diff", lambda before, after, name: print(f"diff of {name}"))
    path = tmp_path / "app" / "models" / "product.py"
    path.parent.mkdir(parents=True)
    path.write_text(MODEL, encoding="utf-8")
    return path


def test_replace_a_method_then_run_it_again(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = "    def total(self) -> int:\n        return self.price * 2\n"
    edits.replace_definition("app/models/product.py", "Product.total", body)
    assert "return self.price * 2" in model.read_text() and "diff of app/models/product.py" in capsys.readouterr().out
    edits.replace_definition("app/models/product.py", "Product.total", body)
    assert "No change: Product.total in app/models/product.py already reads like this." in capsys.readouterr().out


def test_insert_after_an_attribute_once(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edits.insert_after("app/models/product.py", "Product.price", "    weight_grams: int | None\n")
    edits.insert_after("app/models/product.py", "Product.price", "    weight_grams: int | None\n")
    assert model.read_text().count("weight_grams") == 1
    assert "Already done" in capsys.readouterr().out


def test_edit_file_twice_says_it_is_done_and_a_lost_text_says_what_to_do(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edits.edit_file("app/models/product.py", "price: int", "price: int  # cents")
    edits.edit_file("app/models/product.py", "price: int", "price: int  # cents")
    assert "Already done: app/models/product.py has this change" in capsys.readouterr().out
    with pytest.raises(edits.EditError, match="appears 0 time"):
        edits.edit_file("app/models/product.py", "no such text", "x")


def test_a_pattern_must_match_one_file_and_a_broken_file_is_named(model: Path) -> None:
    with pytest.raises(edits.EditError, match="matches 0"):
        edits.replace_definition("app/migrations/versions/*_nothing.py", "upgrade", "def upgrade(): pass\n")
    model.write_text("class Product(:\n", encoding="utf-8")
    with pytest.raises(edits.EditError, match="does not parse"):
        edits.replace_definition("app/models/product.py", "Product", "class Product: pass\n")


def test_a_rename_and_a_deletion_can_run_twice(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = "    # in cents: money is never a float\n    price_cents: int\n"
    edits.replace_definition("app/models/product.py", "Product.price", body)
    edits.replace_definition("app/models/product.py", "Product.price", body)  # NAME is gone: the body is there
    edits.edit_file("app/models/product.py", "    # in cents: money is never a float\n", "")
    edits.edit_file("app/models/product.py", "    # in cents: money is never a float\n", "")
    out = capsys.readouterr().out
    assert out.count("Already done") == 2 and "price_cents: int" in model.read_text()
