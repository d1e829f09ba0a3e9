"""The course's own messages in the learner's language: check verdicts, hints, progress, errors.

English is the source. A message the learner may read is written ``tr("… {name} …", name=value)``:
in English that is ``"… {name} …".format(name=value)``; in another edition the text comes from
that language's catalogue, ``translations/<lang>/course.po`` (standard gettext; ``python run.py
translate update`` extracts every ``tr("…")`` of the package into it), and the values are filled
into the translation. A message with no current translation (new, changed: *fuzzy*) is shown in
English rather than wrong, and ``tests/tools/test_translate.py`` fails on it.

The language is the notebook's: ``course.setup(…, language="ru")`` sets it for the kernel (the
Russian notebooks in ``notebooks/ru/`` say so in their setup cell); ``COURSE_LANGUAGE`` sets it
for the command line (``python -m course progress``).
"""

from __future__ import annotations

import os
from functools import cache

from course.paths import CHECKOUT

TRANSLATIONS = CHECKOUT / "translations"
LANGUAGES = {"en": "English", "ru": "Russian"}
CATALOGUE = "course.po"

_language = os.environ.get("COURSE_LANGUAGE", "en")


class UnknownLanguage(ValueError):
    """Shown in a notebook as its message only."""

    def _render_traceback_(self) -> list[str]:
        return [str(self)]


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        choices = ", ".join(f'"{code}" ({name})' for code, name in LANGUAGES.items())
        raise UnknownLanguage(f"the course has no edition in {lang!r}; choose one of {choices}")
    return lang


def set_language(lang: str) -> None:
    """The language of every message from now on, in this process."""
    global _language
    _language = check_language(lang)


def language() -> str:
    return _language if _language in LANGUAGES else "en"


def edition_suffix() -> str:
    """What the edition adds to the names of its workspaces, databases and folders: ``""`` or ``"-ru"``."""
    return "" if language() == "en" else f"-{language()}"


@cache
def translations(lang: str) -> dict[str, str]:
    """msgid → msgstr of ``lang``'s catalogue: the current translations only (no fuzzy, no empty)."""
    import polib

    path = TRANSLATIONS / lang / CATALOGUE
    if not path.exists():
        return {}
    return {
        entry.msgid: entry.msgstr
        for entry in polib.pofile(str(path))
        if entry.msgstr and not entry.obsolete and "fuzzy" not in entry.flags
    }


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue where it is defined (a table of words); ``tr()`` shows it later."""
    return message


def tr(message: str, /, **values: object) -> str:
    """``message`` in the current language, with ``{name}`` filled from ``values``."""
    lang = language()
    text = message if lang == "en" else translations(lang).get(message, message)
    return text.format(**values) if values else text
