"""Execute notebooks in place, so their stored outputs come from a real run: ``python run.py execute``.

    python run.py execute                          every notebook, one after another
    python run.py execute 03 notebooks/05-*.ipynb  some (a number prefix or a path)
    python run.py execute ru/03 ru                 the Russian edition's (notebooks/ru/): one, or all

Each notebook runs top to bottom in a fresh kernel, in ``notebooks/``, as strict nbval will
replay it. A cell that raises stops the run, unless it is tagged ``raises-exception``
(a cell meant to show an error). Timing metadata is not recorded, so a re-run changes only
what really changed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def notebooks(selection: list[str]) -> list[Path]:
    every = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
    if not selection:
        return every
    chosen = []
    for item in selection:
        path = Path(item)
        if path.suffix == ".ipynb":
            matches = [path.resolve()]
        elif (NOTEBOOKS / item).is_dir():  # "ru": the whole edition
            matches = sorted((NOTEBOOKS / item).glob("[0-9][0-9]-*.ipynb"))
        else:  # "03" in notebooks/, "ru/03" in notebooks/ru/
            folder = NOTEBOOKS / path.parent
            matches = [p for p in sorted(folder.glob("[0-9][0-9]-*.ipynb")) if p.name.startswith(path.name)]
        if not matches or not matches[0].exists():
            raise SystemExit(f"no notebook matches {item!r} (give a number such as 03, ru/03 for the Russian edition, or a path)")
        chosen += matches
    return chosen


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=600, kernel_name="python3", record_timing=False, resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(prog="python run.py execute", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="number prefixes (03) or paths; default: all")
    for path in notebooks(parser.parse_args().notebooks):
        print(f"{path.name}: {execute(path):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
