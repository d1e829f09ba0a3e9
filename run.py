"""The course's launcher: the same two commands on Linux, macOS and Windows.

    python run.py lab     set everything up, then open the course in JupyterLab
    python run.py test    set everything up, then run the whole test suite

``python run.py lab --lang ru`` opens the Russian edition (notebooks/ru/), JupyterLab's interface in Russian.

(On Windows, in PowerShell: ``py run.py lab``; on macOS: ``python3 run.py lab``.)
Setting up means: a virtual environment in ``.venv/`` made with a Python 3.11+ (this
one, or another found on the machine), the exact pins of ``requirements.txt`` installed
into it (again only when that file changes), the course's helper package installed, and
the database started (the embedded PostgreSQL unless ``DATABASE_URL``/``DB_*`` say otherwise).

Other commands: db, db-stop, clean, execute (re-run notebooks, storing their outputs), slides,
bench, lock, classroom (an instructor's: prepare a shared server for a class), progress,
translate (the translations' catalogues: update, status, build), help. Arguments after the command
go to the tool behind it: ``python run.py test -k settings``, ``python run.py lab --port 8899
--no-browser``; ``python run.py test --jobs 1`` runs the suite serially.

This file needs only Python's standard library, and parses on old Pythons so that it can
say what to install instead of failing with a syntax error.
"""

import hashlib
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(ROOT, ".venv")
WINDOWS = os.name == "nt"
MINIMUM = (3, 11)
NEWEST_TESTED = (3, 13)
STAMP = os.path.join(VENV, ".course-installed")


def say(text):
    print("run.py: " + text, flush=True)


def venv_python():
    return os.path.join(VENV, "Scripts", "python.exe") if WINDOWS else os.path.join(VENV, "bin", "python")


def version_of(command):
    """(major, minor) of the Python that ``command`` starts, or None."""
    try:
        out = subprocess.run(
            command + ["-c", "import sys; print('%d %d' % sys.version_info[:2])"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            universal_newlines=True,
            timeout=30,
        ).stdout.split()
        return int(out[0]), int(out[1])
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return None


def suitable_python():
    """A command that starts a Python 3.11+: this one if it is, else one found on the machine."""
    if sys.version_info[:2] >= MINIMUM:
        return [sys.executable]
    wanted = ["3.%d" % minor for minor in range(NEWEST_TESTED[1], MINIMUM[1] - 1, -1)]
    if WINDOWS:
        candidates = [["py", "-" + v] for v in wanted]
    else:
        candidates = [["python" + v] for v in wanted] + [["python3"]]
    for command in candidates:
        if shutil.which(command[0]) and (version_of(command) or (0, 0)) >= MINIMUM:
            say("this is Python %d.%d; using %s for the course" % (sys.version_info[0], sys.version_info[1], " ".join(command)))
            return command
    where = {
        "nt": "from https://www.python.org/downloads/windows/ (tick 'Add python.exe to PATH'), or: winget install Python.Python.3.12",
    }.get(
        os.name,
        "macOS: from https://www.python.org/downloads/macos/ or `brew install python@3.12`; "
        "Linux: your distribution's python3.12 package, or pyenv",
    )
    say(
        "the course needs Python 3.11, 3.12 or 3.13, and this is Python %d.%d (%s).\n"
        "        Install one %s,\n        then run this command again with it (for example `python3.12 run.py test`)."
        % (sys.version_info[0], sys.version_info[1], sys.executable, where)
    )
    raise SystemExit(1)


def fingerprint():
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        with open(os.path.join(ROOT, name), "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()


def run(command, **kwargs):
    code = subprocess.call(command, cwd=ROOT, **kwargs)
    if code != 0:
        say("failed (exit code %d): %s" % (code, " ".join(command)))
        raise SystemExit(code)


def ensure_venv():
    """Create .venv and install the pins and the course package, unless already done for these files."""
    python = venv_python()
    if not os.path.exists(python):
        say("creating .venv (a virtual environment for the course)")
        run(suitable_python() + ["-m", "venv", VENV])
    wanted = fingerprint()
    try:
        with open(STAMP) as handle:
            if handle.read().strip() == wanted:
                return python
    except OSError:
        pass
    say("installing the course's pinned packages into .venv (the first time takes a few minutes)")
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run(pip + ["--require-hashes", "-r", "requirements.txt"])
    run(pip + ["--no-deps", "--no-build-isolation", "--editable", "."])
    with open(STAMP, "w") as handle:
        handle.write(wanted + "\n")
    return python


def take_jobs(args):
    """``--jobs N`` (default 4: the runs wait on the database and on kernels more than on the CPU) from the test arguments."""
    jobs = os.environ.get("COURSE_JOBS", "4")
    rest = []
    it = iter(args)
    for arg in it:
        if arg == "--jobs":
            jobs = next(it, jobs)
        elif arg.startswith("--jobs="):
            jobs = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return jobs, rest


COMMANDS = ("lab", "test", "db", "db-stop", "slides", "bench", "lock", "execute", "classroom", "progress", "translate")


def main(argv):
    if hasattr(sys.stdout, "reconfigure"):  # a Windows console or pipe in a legacy code page must not crash a message
        sys.stdout.reconfigure(errors="backslashreplace")
    command, args = (argv[0], argv[1:]) if argv else ("help", [])
    if command in ("help", "-h", "--help"):
        print(__doc__.strip())
        return 0
    if command == "clean":  # works without a venv too
        if os.path.exists(venv_python()):
            subprocess.call([venv_python(), "-m", "course", "clean"], cwd=ROOT)
        for folder in (os.path.join("notebooks", "workspaces"), ".pgdata", "build"):
            shutil.rmtree(os.path.join(ROOT, folder), ignore_errors=True)
        say("removed the workspaces, the embedded database's data and build/ (kept .venv)")
        return 0
    if command not in COMMANDS:
        say("unknown command %r; try: python run.py help" % command)
        return 2
    python = ensure_venv()
    os.environ.setdefault("PYTHONUTF8", "1")  # the same text encoding on Windows as elsewhere
    if command in ("db", "db-stop", "lab", "progress"):
        return subprocess.call([python, "-m", "course", command] + args, cwd=ROOT)
    if command == "classroom":
        return subprocess.call([python, os.path.join("tools", "classroom.py")] + args, cwd=ROOT)
    if command == "slides":
        return subprocess.call([python, os.path.join("tools", "slides", "build.py")] + args, cwd=ROOT)
    if command == "translate":
        return subprocess.call([python, os.path.join("tools", "translate.py")] + args, cwd=ROOT)
    if command in ("bench", "execute"):
        run([python, "-m", "course", "db"])
        return subprocess.call([python, os.path.join("tools", command + ".py")] + args, cwd=ROOT)
    if command == "lock":
        compile_ = ["uv", "pip", "compile", "--universal", "--generate-hashes", "--python-version", "%d.%d" % MINIMUM]
        compile_ += ["--custom-compile-command", "python run.py lock", "requirements.in", "-o", "requirements.txt"]
        return subprocess.call([python, "-m"] + compile_ + args, cwd=ROOT)
    # test
    run([python, "-m", "course", "db"])
    jobs, rest = take_jobs(args)
    parallel = ["-n", jobs, "--dist", "loadscope", "--no-loadscope-reorder"] if jobs not in ("0", "1") else []
    return subprocess.call([python, "-m", "pytest"] + parallel + rest, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
