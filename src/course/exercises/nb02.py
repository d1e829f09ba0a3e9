"""Notebook 02: a second environment from the async template, and alembic.ini options."""

from __future__ import annotations

import configparser
import datetime
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from course.exercises import Exercise, Verdict, WrongAttempt, not_started, probes, solved, wrong
from course.i18n import N_, tr
from course.workspace import Workspace

NOTEBOOK = "02-init"

ASYNC_FOLDER = "app/migrations_async"
RESTART = N_(
    'course.restart_exercise("{id}") puts the workspace back where the exercise started; your attempt is kept.'
)  # shown through tr()


def _ini(ws: Workspace) -> configparser.ConfigParser:
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(ws.path / "alembic.ini", encoding="utf-8")
    return ini


def _other_environments(ws: Workspace) -> list[str]:
    """Folders holding an env.py, besides the project's app/migrations."""
    found = []
    for env in sorted(ws.path.rglob("env.py")):
        folder = env.parent.relative_to(ws.path).as_posix()
        if folder != "app/migrations" and "__pycache__" not in folder:
            found.append(folder)
    return found


def check_async_template(ws: Workspace) -> Verdict:
    target = ws.path / ASYNC_FOLDER
    if not target.exists():
        others = [f for f in _other_environments(ws) if f != ASYNC_FOLDER]
        if others:
            return wrong(
                tr(
                    "there is a new environment in {found}/, not in {folder}/: the argument of `init` is the "
                    "folder, relative to where you run it (the project root). {restart}",
                    found=others[0],
                    folder=ASYNC_FOLDER,
                    restart=tr(RESTART, id="02.1"),
                )
            )
        return not_started(tr("there is no {folder}/ yet: one `%alembic init` command, with `-t async`.", folder=ASYNC_FOLDER))
    env = target / "env.py"
    if not env.exists():
        return wrong(tr("{folder}/ exists but holds no env.py. {restart}", folder=ASYNC_FOLDER, restart=tr(RESTART, id="02.1")))
    text = env.read_text(encoding="utf-8")
    if "async_engine_from_config" not in text:
        template = tr("the generic template") if "engine_from_config" in text else tr("not the async template")
        return wrong(
            tr(
                "{folder}/env.py is {template}: it builds a synchronous engine. Choose the template with "
                "`-t async`; `init` refuses a folder that is not empty, so start over first: {restart}",
                folder=ASYNC_FOLDER,
                template=template,
                restart=tr(RESTART, id="02.1"),
            )
        )
    location = _ini(ws).get("alembic", "script_location", fallback=None)
    if location != "%(here)s/app/migrations":
        return wrong(
            tr(
                "alembic.ini now says script_location = {location}: the project's environment is still app/migrations. "
                "`init` never overwrites an existing alembic.ini; was it deleted or edited? {restart}",
                location=location,
                restart=tr(RESTART, id="02.1"),
            )
        )
    return solved(
        tr(
            "{folder}/env.py comes from the async template (async_engine_from_config, connection.run_sync), "
            "and alembic.ini was left as it was.",
            folder=ASYNC_FOLDER,
        )
    )


def _zero_offset(zone: ZoneInfo) -> bool:
    return all(datetime.datetime(2025, month, 15, tzinfo=zone).utcoffset() == datetime.timedelta(0) for month in (1, 7))


def check_timezone(ws: Workspace) -> Verdict:
    path = ws.path / "alembic.ini"
    try:
        ini = _ini(ws)
    except configparser.Error as error:
        return wrong(tr("alembic.ini no longer reads as an INI file: {error}", error=str(error).splitlines()[0]))
    value = ini.get("alembic", "timezone", fallback=None)
    if value is None:
        elsewhere = [s for s in ini.sections() if ini.has_option(s, "timezone")]
        if elsewhere:
            return wrong(
                tr(
                    "`timezone = {value}` is in the section [{section}]: Alembic reads "
                    "its options only from [alembic] (at the top of the file).",
                    value=ini.get(elsewhere[0], "timezone"),
                    section=elsewhere[0],
                )
            )
        text = path.read_text(encoding="utf-8")
        commented = re.search(r"^#[ \t]*timezone[ \t]*=[ \t]*\S.*$", text, re.M)
        if commented:
            return wrong(tr("the line `{line}` is still a comment: remove the `# ` in front of it.", line=commented.group(0)))
        return not_started(tr("alembic.ini has no timezone yet: the line `# timezone =` is still commented out."))
    value = value.strip()
    if not value:
        return wrong(tr("`timezone =` is there but empty: an empty value means your computer's local time."))
    zone = None
    for name in (value, value.upper()):  # what Alembic tries, in this order
        try:
            zone = ZoneInfo(name)
            break
        except (ZoneInfoNotFoundError, ValueError):
            continue
    if zone is None:
        return wrong(
            tr(
                '`timezone = {value}`: Alembic would stop with "Can\'t locate timezone: {value}" at the next revision.',
                value=value,
            )
        )
    if not _zero_offset(zone):
        return wrong(
            tr("`timezone = {value}` is a real time zone, but not UTC: its dates are not comparable across a team.", value=value)
        )
    return solved(
        tr("alembic.ini says timezone = {value}, in the [alembic] section: new migrations carry UTC dates.", value=value)
    )


SAMPLE = {"rev": "3f2a9c1b7d4e", "slug": "add_weight", "year": 2025, "month": 1, "day": 31, "hour": 14, "minute": 5, "second": 9}
SAMPLE["epoch"] = int(datetime.datetime(2025, 1, 31, 14, 5, 9, tzinfo=datetime.UTC).timestamp())


def check_file_template(ws: Workspace) -> Verdict:
    try:
        template = probes.script(ws).file_template
    except configparser.InterpolationError as error:
        return wrong(
            tr(
                "Alembic cannot read alembic.ini: configparser takes `%(year)d` for a reference to another option "
                "({error}). In alembic.ini, write every % twice: `%%(year)d`, `%%(rev)s`.",
                error=type(error).__name__,
            )
        )
    if template == "%(rev)s_%(slug)s":
        return not_started(tr("file_template is still the default, `%%(rev)s_%%(slug)s`: file names start with the revision id."))
    try:
        name = template % SAMPLE
    except (KeyError, ValueError, TypeError) as error:
        return wrong(
            tr(
                "file_template = {template} cannot be filled in ({error}: {message}).",
                template=template,
                error=type(error).__name__,
                message=error,
            )
        )
    made = tr("a revision made on 31 January 2025 at 14:05 with the message 'add weight'")
    if "/" in name:
        return wrong(
            tr(
                "{made} would go to {name}.py, in date folders (Alembic finds those only with "
                "recursive_version_locations = true): the task asks for the date in the file name.",
                made=made,
                name=name,
            )
        )
    if SAMPLE["rev"] not in name:
        return wrong(
            tr("{made} would be named {name}.py: no revision id (`%%(rev)s`), so two names could clash.", made=made, name=name)
        )
    if SAMPLE["slug"] not in name:
        return wrong(
            tr(
                "{made} would be named {name}.py: no slug (`%%(slug)s`), so the name no longer says what it does.",
                made=made,
                name=name,
            )
        )
    if not re.match(r"2025\D?01\D?31", name):
        where = (
            tr("the date is there, but does not start the name year first") if "2025" in name else tr("there is no date in it")
        )
        return wrong(
            tr(
                "{made} would be named {name}.py: {where}, so a folder listing does not sort by date.",
                made=made,
                name=name,
                where=where,
            )
        )
    return solved(tr("{made} would be named {name}.py: the files now sort by date in a folder listing.", made=made, name=name))


TEMPLATE_LINE = "file_template = %%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s"

EXERCISES = [
    Exercise(
        id="02.1",
        title="The async template",
        check=check_async_template,
        solution="%alembic init -t async app/migrations_async",
        explanation="`-t async` picks the template; the argument is the new folder. `alembic.ini` already exists, "
        "so `init` says `File alembic.ini already exists, skipping`: it never overwrites it. The new `env.py` "
        "builds an engine with `async_engine_from_config` and runs the (synchronous) migrations through "
        "`connection.run_sync`, inside `asyncio.run`.",
        wrong=(
            WrongAttempt("%alembic init app/migrations_async", "the generic template"),
            WrongAttempt("%alembic init -t async migrations_async", "not in app/migrations_async/"),
        ),
    ),
    Exercise(
        id="02.2",
        title="Dates in UTC",
        check=check_timezone,
        solution='course.edit_file("alembic.ini", "# timezone =\\n", "timezone = UTC\\n")',
        explanation="The option must be in the `[alembic]` section and not commented out. The value goes to "
        "Python's `ZoneInfo`; new migration files then say `Create Date: … +00:00`. An INI file has no named "
        "functions, so `course.edit_file(path, old, new)` (replace a piece of text) is the tool here.",
        wrong=(
            WrongAttempt('course.edit_file("alembic.ini", "# timezone =\\n", "# timezone = UTC\\n")', "still a comment"),
            WrongAttempt(
                'with open("alembic.ini", "a", encoding="utf-8") as ini:\n    ini.write("timezone = UTC\\n")',
                "[formatter_generic]",
            ),
        ),
    ),
    Exercise(
        id="02.3",
        title="Migration files that sort by date",
        check=check_file_template,
        solution=(
            "course.edit_file(\n"
            '    "alembic.ini",\n'
            f'    "# {TEMPLATE_LINE}",\n'
            f'    "{TEMPLATE_LINE}",\n'
            ")\n"
            '%alembic revision -m "dated file name"\n'
            'course.show_tree("app/migrations/versions")'
        ),
        explanation="The first commented example of `file_template` does it: year, month, day, hour and minute, "
        "then the revision id and the slug. Every `%` is doubled because configparser reads `%(name)s` as a "
        "reference to another option. The date is written in the `timezone` of exercise 02.2.",
        wrong=(
            WrongAttempt(
                f'course.edit_file(\n    "alembic.ini",\n    "# {TEMPLATE_LINE}",\n    "{TEMPLATE_LINE.replace("%%", "%")}",\n)',
                "write every % twice",
            ),
            WrongAttempt(
                "course.edit_file(\n"
                '    "alembic.ini",\n'
                f'    "# {TEMPLATE_LINE}",\n'
                '    "file_template = %%(day).2d_%%(month).2d_%%(year)d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s",\n'
                ")",
                "year first",
            ),
        ),
        on_your_own=True,
    ),
]
