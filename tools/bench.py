"""`python run.py bench`: how fast the course is on this machine (a measurement, not a test).

    python run.py bench                 # everything (the fresh-clone `python run.py test` runs too: slow)
    python run.py bench --quick         # everything but the fresh clone
    python run.py bench --repeats 5 --heavy-repeats 3 --only notebooks,alembic
    python run.py bench --only exercise_runs --notebooks 07,12   # the suite's kinds of run, per notebook

(``run.py bench`` makes sure the database is up, then runs ``.venv/bin/python tools/bench.py``
with the same arguments.)

Prints a table and writes build/bench.json. Each quick measurement (%alembic, the database,
the setup call) is repeated (``--repeats``, 3 by default) and its median reported, with min
and max; each notebook and the serial/parallel suites take minutes, so they run
``--heavy-repeats`` times (1 by default); the fresh-clone `python run.py test` runs once. The
database server must be up (`python run.py bench` runs `python -m course db` first).

Nothing here touches the repository's notebooks or the learner's workspaces: kernels run
with ``COURSE_WORKSPACE_SUFFIX=-bench`` (workspaces ``<notebook>-bench``, databases
``course_<notebook>_bench``), which are removed at the end; the cold-start server lives in
a temporary data directory, deleted afterwards. The nbval runs with the suffix show some
cell mismatches on purpose (the workspace's name is printed by some cells): only their
time counts here.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from course.database import SETTING_NAMES, env_file_text

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PY = sys.executable
SUFFIX = "-bench"

# The targets the course aims at on a 2-core machine.
TARGET_SUITE_S = 240.0  # `python run.py test` with a built venv
TARGET_SETUP_S = 2.0  # one course.create_workspace(...) with the server running
TARGET_ALEMBIC_RATIO = 1.3  # one %alembic call / `python -m alembic --help` in a fresh process


# --------------------------------------------------------------------------- measuring


def measure(fn: Callable[[], object], repeats: int) -> dict:
    """Run ``fn`` ``repeats`` times; the median, min, max and every sample, in seconds."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return summary(samples)


def summary(samples: list[float]) -> dict:
    return {
        "median_s": round(statistics.median(samples), 3),
        "min_s": round(min(samples), 3),
        "max_s": round(max(samples), 3),
        "runs": len(samples),
        "samples_s": [round(s, 3) for s in samples],
    }


def run(
    cmd: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None, check: bool = True, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-3000:]}")
    return proc


def bench_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["COURSE_WORKSPACE_SUFFIX"] = SUFFIX
    env.pop("PYTEST_XDIST_WORKER", None)
    env.update(extra)
    return env


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def course_notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


# --------------------------------------------------------------------------- the notebooks


def execute_notebook(path: Path) -> dict:
    """Run a notebook in memory with nbclient (the file is not written); its errors, if any."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    errors = [
        f"cell {i}: {o.get('ename')}: {o.get('evalue')}"[:200]
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and "raises-exception" not in cell.metadata.get("tags", [])
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    return {"errors": errors}


def bench_notebooks(repeats: int) -> dict:
    os.environ["COURSE_WORKSPACE_SUFFIX"] = SUFFIX  # the kernels inherit it
    os.environ.pop(
        "COURSE_CAPSTONE_DIR", None
    )  # notebook 16 writes into notebooks/my-fastapi-app-bench/, not the learner's folder
    results = {}
    for path in course_notebooks():
        say(f"  notebook {path.name} ×{repeats}")
        samples, errors = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            outcome = execute_notebook(path)
            samples.append(time.perf_counter() - start)
            errors = outcome["errors"]
        results[path.stem] = {**summary(samples), "errors": errors}
    return results


def pytest_notebooks(workers: int) -> dict:
    """`pytest -n N --dist loadfile notebooks/` (N=0: serial, in one process); time and outcome."""
    files = [str(p.relative_to(ROOT)) for p in course_notebooks()]  # not notebooks/: no workspace or helper files
    cmd = [PY, "-m", "pytest", "-n", str(workers), "--dist", "loadfile", "-q", "--continue-on-collection-errors", *files]
    start = time.perf_counter()
    proc = run(cmd, env=bench_env(), check=False)
    elapsed = time.perf_counter() - start
    last = [line for line in proc.stdout.splitlines() if line.strip()][-1:] or [""]
    return {"seconds": elapsed, "exit": proc.returncode, "last_line": last[0].strip("= ")}


def bench_serial_vs_parallel(repeats: int) -> dict:
    out: dict[str, dict] = {}
    for label, workers in (("serial (-n 0)", 0), ("parallel (-n 2 --dist loadfile)", 2)):
        say(f"  pytest notebooks/ {label} ×{repeats}")
        runs = [pytest_notebooks(workers) for _ in range(repeats)]
        out[label] = {
            **summary([r["seconds"] for r in runs]),
            "exits": [r["exit"] for r in runs],
            "last_line": runs[-1]["last_line"],
        }
    serial, parallel = (out[k]["median_s"] for k in out)
    out["ratio serial/parallel"] = round(serial / parallel, 2)
    return out


def _exercise_runs_module() -> ModuleType:
    """tests/notebooks/test_exercises.py: how the suite builds its runs (answers, cut points) lives there, once."""
    spec = importlib.util.spec_from_file_location("exercise_runs", ROOT / "tests" / "notebooks" / "test_exercises.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bench_exercise_runs(repeats: int, numbers: list[str]) -> dict:
    """Each kind of notebook run the suite makes, timed alone: what `python run.py test` spends per notebook."""
    import nbformat

    runs = _exercise_runs_module()
    os.environ["COURSE_WORKSPACE_SUFFIX"] = SUFFIX
    os.environ["COURSE_PROGRESS_DIR"] = str(Path(tempfile.mkdtemp(prefix="bench-progress-")))
    out: dict[str, dict] = {}
    for path in course_notebooks():
        if numbers and path.name[:2] not in numbers:
            continue
        cells = nbformat.read(path, as_version=4).cells
        kinds = {
            "stored notebook, once (as nbval runs it)": [nbformat.from_dict(c) for c in cells],
            **{
                f"restart at {percent} %: the cells above, once": runs.cells_above(cells, percent / 100)
                for percent in (25, 50, 75)
            },
            "answers, every cell twice": runs.every_cell_twice(runs.with_answers(cells, runs._attempt_then_solution)),
        }
        for kind, run_cells in kinds.items():
            say(f"  {path.stem}: {kind} ×{repeats}")
            errors: list[str] = []

            def once(run_cells: list = run_cells, path: Path = path, errors: list[str] = errors) -> None:
                errors[:] = runs.errors(runs.execute([nbformat.from_dict(c) for c in run_cells], path))

            out[f"{path.name[:2]} · {kind}"] = {**measure(once, repeats), "errors": errors}
    return out


# --------------------------------------------------------------------------- one %alembic call


def bench_alembic(repeats: int) -> dict:
    from course.alembic_runner import run_alembic
    from course.magics import relative_output
    from course.workspace import create_workspace

    say(f"  %alembic ×{repeats}")
    ws = create_workspace("bench-alembic" + SUFFIX, "upgraded")
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}

    def magic(*args: str) -> Callable[[], None]:  # exactly what %alembic does: run_alembic, then relative paths
        return lambda: relative_output(run_alembic(ws.path, list(args)).stdout, ws)

    def cli(*args: str, cwd: Path = ws.path) -> Callable[[], None]:  # a learner typing `alembic …` in a terminal
        return lambda: run([PY, "-m", "alembic", *args], cwd=cwd, env=env)

    floor = measure(cli("--help", cwd=Path(tempfile.gettempdir())), repeats)
    python_floor = measure(lambda: run([PY, "-c", "pass"]), repeats)
    rows = {
        "python -c pass (interpreter start)": python_floor,
        "python -m alembic --help (the floor)": floor,
        "%alembic --help": measure(magic("--help"), repeats),
        "python -m alembic current (CLI in the workspace)": measure(cli("current"), repeats),
        "%alembic current": measure(magic("current"), repeats),
        "%alembic history": measure(magic("history"), repeats),
    }
    # The course forks %alembic commands from a warm starter (course/alembic_runner.py) where it can;
    # the first call of a kernel starts it, and COURSE_WARM_ALEMBIC=0 turns it off (plain subprocess).
    code = (
        "import time, pathlib; from course.alembic_runner import run_alembic; t = time.perf_counter(); "
        f"run_alembic(pathlib.Path({str(ws.path)!r}), ['current']); print(time.perf_counter() - t)"
    )
    first = [float(run([PY, "-c", code], cwd=NOTEBOOKS, env=bench_env()).stdout.split()[-1]) for _ in range(repeats)]
    rows["%alembic current, first call of a kernel (starts the warm starter)"] = summary(first)
    os.environ["COURSE_WARM_ALEMBIC"] = "0"
    try:
        rows["%alembic current, cold (COURSE_WARM_ALEMBIC=0: a plain subprocess)"] = measure(magic("current"), repeats)
    finally:
        os.environ.pop("COURSE_WARM_ALEMBIC", None)
    for key in [k for k in rows if k.startswith("%alembic current") or k == "%alembic --help"]:
        rows[key]["ratio_to_floor"] = round(rows[key]["median_s"] / floor["median_s"], 2)
    rows["%alembic current"]["ratio_to_cli_current"] = round(
        rows["%alembic current"]["median_s"] / rows["python -m alembic current (CLI in the workspace)"]["median_s"], 2
    )
    return rows


# --------------------------------------------------------------------------- the database


# `python run.py db` and `python run.py db-stop` run these in the venv.
DB_START = [PY, "-m", "course", "db"]  # start the embedded server if it is the one in use, then connect once
DB_STOP = [PY, "-m", "course", "db-stop"]


def bench_database(repeats: int) -> dict:
    """Cold start (initdb + start) in a new data directory, warm start (stop + start) of it."""
    cold, warm = [], []
    base = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    os.chmod(base, 0o755)  # as root the wheel runs the server as another user, which must reach the folder
    try:
        for i in range(repeats):
            pgdata = base / f"d{i}"
            env = bench_env(EMBEDDED_PGDATA=str(pgdata))
            for name in SETTING_NAMES:
                env.pop(name, None)
            say(f"  database cold start {i + 1}/{repeats}")
            start = time.perf_counter()
            run(DB_START, env=env)
            cold.append(time.perf_counter() - start)
            run(DB_STOP, env=env)
            say(f"  database warm start {i + 1}/{repeats}")
            start = time.perf_counter()
            run(DB_START, env=env)
            warm.append(time.perf_counter() - start)
            run(DB_STOP, env=env)
            shutil.rmtree(pgdata, ignore_errors=True)
        already = measure(lambda: run(DB_START), repeats)  # what every `python run.py lab/test` pays when it is up
    finally:
        for pgdata in base.glob("d*"):
            run(DB_STOP, env=bench_env(EMBEDDED_PGDATA=str(pgdata)), check=False)
        shutil.rmtree(base, ignore_errors=True)
    return {
        "cold start (initdb + start, new data dir)": summary(cold),
        "warm start (existing data dir)": summary(warm),
        "`python run.py db` with the server up (python -m course db)": already,
    }


def bench_setup(repeats: int) -> dict:
    from course.database import recreate_database
    from course.workspace import STARTING_STATES, create_workspace

    out = {}
    for start in ("upgraded", "shop-with-data"):  # what course.starts saves: building the state for real
        say(f"  the state {start!r} built for real (the first setup call after a change) ×{repeats}")
        folder = Path(tempfile.mkdtemp(prefix="bench-state-"))

        def build(start: str = start, folder: Path = folder) -> None:
            shutil.rmtree(folder)
            folder.mkdir()
            url = recreate_database(f"course_bench_state{SUFFIX.replace('-', '_')}")
            (folder / ".env").write_text(env_file_text(url), encoding="utf-8")
            STARTING_STATES[start](folder, url)

        out[f"state {start!r} built for real (course.starts does it once)"] = measure(build, repeats)
        shutil.rmtree(folder, ignore_errors=True)
    for start in ("app", "configured", "upgraded", "shop-with-data"):
        say(f"  create_workspace(start={start!r}) ×{repeats}")
        name = f"bench-setup-{start}{SUFFIX}"
        create_workspace(name, start)  # warm-up: imports, first connection
        out[f"create_workspace(start={start!r}), the state copied"] = measure(
            lambda name=name, start=start: create_workspace(name, start), repeats
        )
    # What a notebook's first cell pays: a fresh interpreter, `import course`, then the setup.
    code = (
        "import time; t = time.perf_counter(); import course; from course.workspace import create_workspace; "
        f"create_workspace('bench-setup-first{SUFFIX}', 'upgraded'); print(time.perf_counter() - t)"
    )
    samples = [float(run([PY, "-c", code], cwd=NOTEBOOKS, env=bench_env()).stdout.split()[-1]) for _ in range(repeats)]
    out["first call in a new kernel: import course + create_workspace('upgraded')"] = summary(samples)
    return out


# --------------------------------------------------------------------------- `python run.py test` from a fresh clone


def bench_fresh_clone() -> dict:
    """A learner's two runs of the suite in a new clone: the first builds .venv, the second reuses it."""
    clone = Path(tempfile.gettempdir()) / "bench-clone"
    shutil.rmtree(clone, ignore_errors=True)
    run(["git", "clone", "-q", str(ROOT), str(clone)])
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in (*SETTING_NAMES, "EMBEDDED_PGDATA", "COURSE_WORKSPACE_SUFFIX", "VIRTUAL_ENV")
    }
    clone_python = clone / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    out = {}
    try:
        for label in ("no venv (creates .venv, pip install, cold database)", "venv built (database up)"):
            say(f"  python run.py test in a fresh clone: {label} (once)")
            start = time.perf_counter()
            proc = run([PY, "run.py", "test"], cwd=clone, env=env, check=False)
            elapsed = time.perf_counter() - start
            tail = [line for line in proc.stdout.splitlines() if line.strip()][-2:]
            out[label] = {**summary([elapsed]), "exit": proc.returncode, "last_lines": tail}
    finally:
        if clone_python.exists():  # the clone's own embedded server (in clone/.pgdata)
            run([str(clone_python), "-m", "course", "db-stop"], cwd=clone, env=env, check=False)
        shutil.rmtree(clone, ignore_errors=True)
    return out


# --------------------------------------------------------------------------- clean-up and report


def clean_up() -> None:
    from course.database import database_name_for, drop_database
    from course.workspace import WORKSPACES

    drop_database(f"course_bench_state{SUFFIX.replace('-', '_')}")
    for path in WORKSPACES.glob(f"*{SUFFIX}"):
        try:
            drop_database(database_name_for(path.name))
        except Exception as error:  # noqa: BLE001 - the report matters more than the tidy-up
            say(f"  could not drop the database of {path.name}: {error}")
        shutil.rmtree(path, ignore_errors=True)
    os.environ["COURSE_WORKSPACE_SUFFIX"] = SUFFIX  # notebook 16's folder and database, with the suffix
    os.environ.pop("COURSE_CAPSTONE_DIR", None)  # never a folder the learner chose
    from course import capstone

    drop_database(capstone.database_name())
    shutil.rmtree(capstone.folder(), ignore_errors=True)


def print_table(report: dict) -> None:
    rows: list[tuple[str, str, str, str]] = []

    def add(section: str, name: str, value: dict | float | str, note: str = "") -> None:
        if isinstance(value, dict):
            spread = f"{value['min_s']:.2f}–{value['max_s']:.2f}" if value["runs"] > 1 else "(1 run)"
            rows.append((section, name, f"{value['median_s']:.2f} s", f"{spread} {note}".strip()))
        else:
            rows.append((section, name, str(value), note))

    m = report["machine"]
    print(
        f"\nCourse benchmark — {m['cpu_count']} cores (os.cpu_count()), Python {m['python']}, {m['platform']}; "
        f"median of {report['repeats']} runs for the quick measurements, {report['heavy_repeats']} for each notebook and suite; "
        "the fresh clone once\n"
    )
    for name, r in report.get("notebooks", {}).items():
        add("notebook (nbclient)", name, r, "ERRORS: " + "; ".join(r["errors"]) if r["errors"] else "")
    if "notebooks" in report:
        total = sum(r["median_s"] for r in report["notebooks"].values())
        add("notebook (nbclient)", "sum of medians", f"{total:.2f} s")
    for name, r in report.get("exercise_runs", {}).items():
        add("kinds of run (nbclient)", name, r, "ERRORS: " + "; ".join(r["errors"]) if r["errors"] else "")
    if "exercise_runs" in report:
        kinds: dict[str, float] = {}
        for name, r in report["exercise_runs"].items():
            kind = name.split(" · ", 1)[1]
            kinds[kind] = kinds.get(kind, 0.0) + r["median_s"]
        for kind, total in kinds.items():
            add("kinds of run (nbclient)", f"sum over the notebooks · {kind}", f"{total:.2f} s")
    for name, r in report.get("suite", {}).items():
        if isinstance(r, dict):
            add("pytest notebooks/", name, r, f"exit {r['exits']}: {r['last_line']}")
        else:
            add("pytest notebooks/", name, f"{r}×", "serial time / parallel time")
    for name, r in report.get("alembic", {}).items():
        notes = []
        if "ratio_to_floor" in r:
            notes.append(f"{r['ratio_to_floor']}× floor (target ≤ {TARGET_ALEMBIC_RATIO}×)")
        if "ratio_to_cli_current" in r:
            notes.append(f"{r['ratio_to_cli_current']}× the CLI's `current`")
        add("one %alembic call", name, r, "; ".join(notes))
    for name, r in report.get("database", {}).items():
        add("embedded database", name, r)
    for name, r in report.get("setup", {}).items():
        note = f"target < {TARGET_SETUP_S:.0f} s" if name.startswith("create_workspace") else ""
        add("setup call", name, r, note)
    for name, r in report.get("fresh_clone", {}).items():
        note = f"exit {r['exit']}: {r['last_lines'][-1] if r['last_lines'] else ''}"
        if name.startswith("venv built"):
            note += f" (target < {TARGET_SUITE_S:.0f} s)"
        add("run.py test, fresh clone", name, r, note)

    widths = [max(len(r[i]) for r in rows + [("section", "what", "median", "min–max / notes")]) for i in range(4)]
    widths[1] = min(widths[1], 70)
    header = ("section", "what", "median", "min–max / notes")
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(widths[j]) if j < 3 else cell for j, cell in enumerate(row)))


SECTIONS = ("notebooks", "exercise_runs", "suite", "alembic", "database", "setup", "fresh_clone")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python run.py bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the fresh-clone `python run.py test` runs (the slow part)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per quick measurement; the median is reported (default 3)")
    parser.add_argument(
        "--heavy-repeats",
        type=int,
        default=1,
        help="runs of each notebook and of the serial/parallel suites (minutes each; default 1)",
    )
    parser.add_argument(
        "--notebooks", default="", help="comma-separated notebook numbers for exercise_runs (default: all), e.g. 07,12"
    )
    parser.add_argument("--only", default="", help=f"comma-separated sections among {', '.join(SECTIONS)}")
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "bench.json")
    args = parser.parse_args()
    only = {s.strip() for s in args.only.split(",") if s.strip()} or set(SECTIONS)
    if args.quick:
        only.discard("fresh_clone")
    unknown = only - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}")

    from course.database import check_server

    check_server()  # the server must be up: `python run.py bench` runs `python -m course db` first
    report: dict = {
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "repeats": args.repeats,
        "heavy_repeats": args.heavy_repeats,
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "targets": {
            "suite_with_venv_s": TARGET_SUITE_S,
            "setup_call_s": TARGET_SETUP_S,
            "alembic_ratio_to_floor": TARGET_ALEMBIC_RATIO,
        },
    }
    steps = {
        "setup": lambda: bench_setup(args.repeats),
        "alembic": lambda: bench_alembic(args.repeats),
        "database": lambda: bench_database(args.repeats),
        "notebooks": lambda: bench_notebooks(args.heavy_repeats),
        "exercise_runs": lambda: bench_exercise_runs(
            args.heavy_repeats, [n.strip() for n in args.notebooks.split(",") if n.strip()]
        ),
        "suite": lambda: bench_serial_vs_parallel(args.heavy_repeats),
        "fresh_clone": bench_fresh_clone,
    }
    started = time.perf_counter()
    try:
        for name, step in steps.items():
            if name in only:
                say(f"{name}…")
                report[name] = step()
    finally:
        clean_up()
    report["bench_total_s"] = round(time.perf_counter() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print_table(report)
    print(
        f"\n(benchmark took {report['bench_total_s']:.0f} s; JSON in {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
