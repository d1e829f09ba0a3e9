"""Where the course lives: the checkout this package was installed from (``pip install -e .``)."""

from __future__ import annotations

import os
from pathlib import Path

# src/course/paths.py -> the checkout. COURSE_ROOT points a copy of the package elsewhere.
CHECKOUT = Path(os.environ.get("COURSE_ROOT") or Path(__file__).resolve().parents[2])
NOTEBOOKS = CHECKOUT / "notebooks"
WORKSPACES = NOTEBOOKS / "workspaces"
REFERENCE_APP = CHECKOUT / "app"
