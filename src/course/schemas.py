"""A comparable description of a live schema, and which revision of a history a database matches.

``describe(url)`` reads what PostgreSQL really holds in the ``public`` schema (tables, columns,
constraints, indexes, enum types, sequences, views, triggers) from its catalogs, as one line per
object: two databases have the same schema when their descriptions are equal, and ``differences``
says what differs in words. ``alembic_version`` is left out (it is Alembic's bookkeeping, not the
schema), and so is the order of columns in a table (a migration's ``add_column`` appends, a
``create_all`` follows the model: the same schema for every query that names its columns).

``alembic_on(ws, database, ...)`` runs the real ``alembic`` CLI of a workspace against another
database of the same server (``DATABASE_URL`` in the command's environment, never printed), and
``schemas_by_revision`` walks a history revision by revision on a throw-away database,
describing the schema after each: what ``matching_revisions`` compares an unversioned database with.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import URL, text

from course.alembic_runner import run_module
from course.database import connect, drop_database, fit_identifier, recreate_database, server_settings
from course.i18n import N_, tr
from course.workspace import Workspace

BOOKKEEPING = ("alembic_version",)

# How many of each kind of object, as Schema.summary() says it: (one, several), shown through tr().
COUNTED = {
    "table": (N_("{n} table"), N_("{n} tables")),
    "column": (N_("{n} column"), N_("{n} columns")),
    "constraint": (N_("{n} constraint"), N_("{n} constraints")),
    "index": (N_("{n} index"), N_("{n} indexes")),
    "enum": (N_("{n} enum"), N_("{n} enums")),
    "sequence": (N_("{n} sequence"), N_("{n} sequences")),
    "view": (N_("{n} view"), N_("{n} views")),
    "trigger": (N_("{n} trigger"), N_("{n} triggers")),
}

# One row per object: (kind, name, definition). Everything here reads pg_catalog, which PostgreSQL 15 and 18 share.
_OBJECTS = """
SELECT 'table', c.relname, ''
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
UNION ALL
SELECT 'column', c.relname || '.' || a.attname,
       format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE ' NULL' END
       || COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
       || CASE WHEN a.attidentity <> '' THEN ' IDENTITY' ELSE '' END
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v') AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
-- p, f, u, c, x only: PostgreSQL 18 also lists NOT NULL as constraints (contype 'n'), 15 does not
SELECT 'constraint', c.relname || '.' || k.conname, pg_get_constraintdef(k.oid)
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND k.contype IN ('p', 'f', 'u', 'c', 'x')
UNION ALL
SELECT 'index', i.relname, pg_get_indexdef(i.oid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public'
UNION ALL
SELECT 'enum', t.typname, string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = 'public'
GROUP BY t.typname
UNION ALL
SELECT 'sequence', c.relname, ''
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'S'
UNION ALL
SELECT 'view', c.relname, pg_get_viewdef(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm')
UNION ALL
SELECT 'trigger', c.relname || '.' || t.tgname, pg_get_triggerdef(t.oid)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND NOT t.tgisinternal
"""


@dataclass(frozen=True)
class Schema:
    """What a database's ``public`` schema holds: ``(kind, name) -> definition``, comparable with ``==``."""

    objects: dict[tuple[str, str], str]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and self.objects == other.objects

    def __hash__(self) -> int:
        return hash(frozenset(self.objects.items()))

    def count(self, kind: str) -> int:
        return sum(1 for k, _ in self.objects if k == kind)

    def summary(self) -> str:
        """``4 tables, 27 columns, 13 constraints, 7 indexes, 1 enum, …`` (kinds that occur)."""
        parts = [tr(COUNTED[kind][n != 1], n=n) for kind in COUNTED if (n := self.count(kind))]
        return ", ".join(parts)


def _bookkeeping(name: str) -> bool:
    table = name.split(".")[0]
    return table in BOOKKEEPING or any(name.startswith(f"{b}_") for b in BOOKKEEPING)


def describe(url: URL) -> Schema:
    """The schema of the database at ``url``, from PostgreSQL's catalogs (``alembic_version`` left out)."""
    with connect(url) as conn:
        rows = conn.execute(text(_OBJECTS)).all()
    return Schema({(kind, name): definition for kind, name, definition in rows if not _bookkeeping(name)})


def differences(a: Schema, b: Schema, names: tuple[str, str] = ("a", "b")) -> list[str]:
    """What differs between two schemas, one line per object, sorted: ``only in a: index ix_…``, ``column x.y: a … / b …``."""
    lines = []
    for key in sorted(a.objects.keys() | b.objects.keys()):
        kind, name = key
        if key not in b.objects:
            definition = f" ({a.objects[key]})" if a.objects[key] else ""
            lines.append(
                tr("only in {where}: {kind} {name}{definition}", where=names[0], kind=kind, name=name, definition=definition)
            )
        elif key not in a.objects:
            definition = f" ({b.objects[key]})" if b.objects[key] else ""
            lines.append(
                tr("only in {where}: {kind} {name}{definition}", where=names[1], kind=kind, name=name, definition=definition)
            )
        elif a.objects[key] != b.objects[key]:
            lines.append(f"{kind} {name}: {names[0]} {a.objects[key]} / {names[1]} {b.objects[key]}")
    return lines


def database_name(ws: Workspace, suffix: str) -> str:
    """The name of another database of this workspace: ``course_15_…_legacy`` (within PostgreSQL's 63 bytes)."""
    return fit_identifier(f"{ws.database}_{suffix}")


def database_url(database: str) -> URL:
    """The URL of another database on the course's server (sync driver), for ``describe`` and friends."""
    return server_settings().url.set(database=database)


def sql_at(database: str, sql: str) -> list[tuple[object, ...]]:
    """Run ``sql`` on another database of the server (committed); its rows, if it returns any."""
    with connect(database_url(database)) as conn:
        result = conn.execute(text(sql))
        return [tuple(row) for row in result] if result.returns_rows else []


def fresh_database(database: str) -> URL:
    """An empty database named ``database`` (dropped first if it exists); its URL."""
    return recreate_database(database, server_settings())


def drop(database: str) -> None:
    """Drop a database this module made (``DROP DATABASE … WITH (FORCE)``)."""
    drop_database(database, server_settings())


def alembic_on(ws: Workspace, database: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The workspace's real ``alembic <args>``, run against ``database`` instead of the workspace's own.

    The command gets ``DATABASE_URL`` in its environment (the app's settings let it win over
    ``.env``), as ``DATABASE_URL=… alembic upgrade head`` would in a terminal. It is never printed.
    """
    url = database_url(database).set(drivername="postgresql")
    env = {"DATABASE_URL": url.render_as_string(hide_password=False)}
    proc = run_module(ws.path, "alembic", list(args), check=False, env=env)
    if check and proc.returncode != 0:
        raise RuntimeError(
            tr(
                "{command} on {database} failed:\n{output}",
                command=f"alembic {' '.join(args)}",
                database=database,
                output=proc.stdout,
            )
        )
    return proc


def alembic_at(database: str, command: str, *, info: bool = True, last: int | None = None, exit_code: bool = False) -> None:
    """In a notebook: ``alembic <command>`` against ``database``, printed as ``course.alembic`` prints it."""
    from course import _require
    from course.magics import already_generated, generated_before, relative_output, split_command_line
    from course.terminal import trim

    ws = _require()
    args = split_command_line(command)
    already = generated_before(ws.path, args)  # a `revision -m …` cell run again: not a second file
    if already is not None:
        print(already_generated(already))
        return
    proc = alembic_on(ws, database, *args, check=False)
    for line in trim(relative_output(proc.stdout, ws), info=info, last=last):
        print(line)
    if exit_code:
        print(tr("exit code: {code}", code=proc.returncode & 0xFF))


def revisions_in_order(ws: Workspace) -> list[str]:
    """Every revision of the workspace's history, each after all of its ancestors (base first)."""
    from course.exercises.probes import script

    return [rev.revision for rev in reversed(list(script(ws).walk_revisions()))]


def _ancestors(ws: Workspace, revision: str) -> set[str]:
    from course.exercises.probes import script

    scripts = script(ws)
    return {rev.revision for rev in scripts.iterate_revisions(revision, "base")}


def schemas_by_revision(ws: Workspace, scratch: str, revisions: Iterable[str] | None = None) -> dict[str, Schema]:
    """The schema at each revision (base first): upgraded step by step on the throw-away database ``scratch``.

    Alembic runs each step for real (``alembic upgrade <rev>``). Where the next revision is on
    another branch, the steps of the branch before it are downgraded first, so each schema is
    exactly that revision's and its ancestors'. ``scratch`` is dropped at the end.
    """
    order = list(revisions) if revisions is not None else revisions_in_order(ws)
    fresh_database(scratch)
    url = database_url(scratch)
    found: dict[str, Schema] = {}
    applied: set[str] = set()
    try:
        for revision in order:
            wanted = _ancestors(ws, revision)
            extra = applied - wanted
            if extra:  # another branch is applied: go back to where the two meet
                meet = max((r for r in order if r in applied & wanted), key=order.index)
                alembic_on(ws, scratch, "downgrade", meet)
                applied = _ancestors(ws, meet)
            alembic_on(ws, scratch, "upgrade", revision)
            applied = wanted
            found[revision] = describe(url)
    finally:
        drop(scratch)
    return found


def matching_revisions(target: Schema, by_revision: dict[str, Schema]) -> list[str]:
    """The revisions whose schema equals ``target`` (several when a revision changes nothing, as a merge)."""
    return [revision for revision, schema in by_revision.items() if schema == target]
