"""Output that reads the same on every machine and every operating system.

A command run in a workspace prints absolute paths (``C:\\Users\\Иван\\alembic-course\\…`` on
Windows, ``/home/ivan/…`` on Linux), the venv's interpreter (``Scripts\\python.exe`` or
``bin/python``) and file-system listings in the file system's own order (ext4 hashes, NTFS
and APFS sort). The notebooks store one form: paths relative to the workspace, written with
``/``, ``<venv>``, ``<python>`` and ``<course>`` for the machine's folders, and listings
sorted. ``portable`` turns any of these forms into it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

# Lines a command prints while walking a folder: `alembic init` (folders, then files) and
# `alembic list_templates` (one template a line, after "Available templates:").
_LISTING = re.compile(r"^(Creating directory |Generating )")
_TEMPLATES = re.compile(r"^([\w-]+ - )")
# A relative or placeholder path written with backslashes: app\migrations\env.py, <venv>\Scripts\python.exe
_BACKSLASH_PATH = re.compile(r"(?<![\w\\])(?:<venv>|<python>|<course>|\.|[\w.-]+)(?:\\[\w.-]+)+")


def portable(text: str, workspace: str, places: Sequence[tuple[str, str]] = (), *, windows: bool | None = None) -> str:
    """``text`` with ``workspace`` written relatively and each ``(folder, name)`` of ``places`` as ``name``."""
    windows = sys.platform == "win32" if windows is None else windows
    for folder, name in [(workspace, "."), *sorted(places, key=lambda p: -len(p[0]))]:
        text = _replace_folder(text, folder, name, windows)
    if windows:
        text = _BACKSLASH_PATH.sub(lambda m: m.group(0).replace("\\", "/"), text)
        text = re.sub(r"<venv>/Scripts/(\w+)\.exe\b", r"<venv>/bin/\1", text)
    return ordered_listings(text)


def _replace_folder(text: str, folder: str, name: str, windows: bool) -> str:
    """Replace ``folder`` (and ``folder/`` inside the workspace) whichever separator the output used."""
    parts = re.split(r"[\\/]", folder.rstrip("\\/"))
    separator = r"[\\/]" if windows else "/"
    pattern = separator.join(re.escape(part) for part in parts)
    flags = re.IGNORECASE if windows else 0  # C:\Users and c:\users are one folder there
    if name == ".":  # inside the workspace, a relative path: `app/env.py`, not `./app/env.py`
        text = re.sub(pattern + separator, "", text, flags=flags)
    return re.sub(pattern, name, text, flags=flags)


def ordered_listings(text: str) -> str:
    """Sort each run of consecutive listing lines, so every file system gives the same order."""
    lines = text.split("\n")
    listing = _TEMPLATES if "Available templates:" in text else _LISTING
    out: list[str] = []
    run: list[str] = []
    for line in [*lines, None]:
        found = listing.match(line) if line is not None else None
        kind = found.group(1) if found else None
        if run and (kind is None or not (run[0].startswith(kind) or listing is _TEMPLATES)):
            out.extend(sorted(run))
            run = []
        if kind is not None and line is not None:
            run.append(line)
        elif line is not None:
            out.append(line)
    return "\n".join(out)
