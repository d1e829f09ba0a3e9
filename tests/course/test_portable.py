"""Outputs read the same on every OS: Windows-shaped paths and other listing orders, fed through the real code."""

from __future__ import annotations

from course.portable import portable

WS_POSIX = "/home/ivan/alembic course/notebooks/workspaces/02-init"
WS_WINDOWS = r"C:\Users\Иван Петров\alembic course\notebooks\workspaces\02-init"
VENV_WINDOWS = r"C:\Users\Иван Петров\alembic course\.venv"
COURSE_WINDOWS = r"C:\Users\Иван Петров\alembic course"


def windows(text: str) -> str:
    return portable(text, WS_WINDOWS, [(VENV_WINDOWS, "<venv>"), (COURSE_WINDOWS, "<course>")], windows=True)


def test_alembic_paths_on_windows_become_the_stored_posix_form() -> None:
    raw = (
        rf"Generating {WS_WINDOWS}\app\migrations\versions\0002_add_reviews.py ...  done"
        "\n"
        rf"FAILED: Directory app\migrations already exists and is not empty"
        "\n"
        rf"{VENV_WINDOWS}\Scripts\python.exe: No module named alembic.__main__"
        "\n"
        rf"Please edit configuration/connection/logging settings in {WS_WINDOWS.lower()}\alembic.ini before proceeding."
    )
    assert windows(raw).split("\n") == [
        "Generating app/migrations/versions/0002_add_reviews.py ...  done",
        "FAILED: Directory app/migrations already exists and is not empty",
        "<venv>/bin/python: No module named alembic.__main__",
        "Please edit configuration/connection/logging settings in alembic.ini before proceeding.",
    ]


def test_posix_output_keeps_its_form_and_other_backslashes() -> None:
    raw = f"Generating {WS_POSIX}/app/migrations/env.py ...  done\nA regex such as \\d+ stays\n"
    assert portable(raw, WS_POSIX, windows=False) == "Generating app/migrations/env.py ...  done\nA regex such as \\d+ stays\n"


def test_init_listings_come_out_sorted_whatever_order_the_file_system_gave() -> None:
    ext4 = [
        f"Creating directory {WS_POSIX}/app/migrations ...  done",
        f"Creating directory {WS_POSIX}/app/migrations/versions ...  done",
        f"Generating {WS_POSIX}/app/migrations/script.py.mako ...  done",
        f"Generating {WS_POSIX}/app/migrations/README ...  done",
        f"Generating {WS_POSIX}/app/migrations/env.py ...  done",
        f"Generating {WS_POSIX}/alembic.ini ...  done",
        f"Please edit configuration/connection/logging settings in {WS_POSIX}/alembic.ini before proceeding.",
    ]
    apfs = ext4[:2] + sorted(ext4[2:6]) + ext4[6:]
    assert portable("\n".join(ext4), WS_POSIX, windows=False) == portable("\n".join(apfs), WS_POSIX, windows=False)
    assert portable("\n".join(ext4), WS_POSIX, windows=False).split("\n")[2:6] == [
        "Generating alembic.ini ...  done",
        "Generating app/migrations/README ...  done",
        "Generating app/migrations/env.py ...  done",
        "Generating app/migrations/script.py.mako ...  done",
    ]


def test_the_template_list_is_sorted_too() -> None:
    ext4 = "Available templates:\n\npyproject_async - a\nmultidb - b\ngeneric - c\n\nTemplates are used via the 'init' command"
    lines = portable(ext4, WS_POSIX, windows=False).split("\n")
    assert lines[2:5] == ["generic - c", "multidb - b", "pyproject_async - a"]


def test_a_windows_path_typed_after_alembic_keeps_its_backslashes() -> None:
    from course.magics import split_command_line

    line = r'-c C:\Users\ivan\course\alembic.ini revision -m "add a note"'
    assert split_command_line(line, windows=True) == [r"-c", r"C:\Users\ivan\course\alembic.ini", "revision", "-m", "add a note"]
    assert split_command_line('revision -m "add a note"', windows=False) == ["revision", "-m", "add a note"]
