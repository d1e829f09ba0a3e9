"""Pictures generated from the real thing, as Mermaid (rendered natively by JupyterLab 4).

* ``schema_diagram``: the live schema, reflected from the database, as an ER diagram.
* ``revision_graph``: the revision history from Alembic's script directory, current revision highlighted.

The Mermaid text is deterministic (sorted tables and columns) so nbval can compare it.
"""

from __future__ import annotations

import re
from pathlib import Path

from IPython.display import Markdown, display
from sqlalchemy import URL, inspect, text

from course.database import connect
from course.i18n import tr


def _type_name(column_type: object) -> str:
    name = str(column_type).lower().replace("character varying", "varchar").replace("double precision", "double")
    return re.sub(r"[^a-z0-9]+", "_", name).strip("_") or "unknown"


def schema_mermaid(url: URL) -> str:
    """The public schema of the database at ``url`` as a Mermaid erDiagram."""
    with connect(url) as conn:
        insp = inspect(conn)
        tables = sorted(insp.get_table_names())
        lines = ["erDiagram"]
        relations = []
        for table in tables:
            pk = set(insp.get_pk_constraint(table).get("constrained_columns") or [])
            fks = insp.get_foreign_keys(table)
            fk_cols = {c for fk in fks for c in fk["constrained_columns"]}
            unique_cols = {
                ix["column_names"][0] for ix in insp.get_indexes(table) if ix.get("unique") and len(ix["column_names"]) == 1
            } | {uc["column_names"][0] for uc in insp.get_unique_constraints(table) if len(uc["column_names"]) == 1}
            lines.append(f"    {table} {{")
            for col in insp.get_columns(table):
                keys = [
                    k
                    for k, on in (
                        ("PK", col["name"] in pk),
                        ("FK", col["name"] in fk_cols),
                        ("UK", col["name"] in unique_cols),
                    )
                    if on
                ]
                note = "null" if col["nullable"] else "not null"
                key_text = f" {','.join(keys)}" if keys else ""
                lines.append(f'        {_type_name(col["type"])} {col["name"]}{key_text} "{note}"')
            lines.append("    }")
            for fk in fks:
                relations.append(f'    {fk["referred_table"]} ||--o{{ {table} : "{", ".join(fk["constrained_columns"])}"')
        if not tables:
            lines.append("    EMPTY_DATABASE {")
            lines.append(f'        none no_tables_yet "{tr("run alembic upgrade")}"')
            lines.append("    }")
        lines.extend(sorted(relations))
    return "\n".join(lines)


def schema_diagram(url: URL) -> None:
    """Display the live schema as an entity-relationship diagram."""
    display(Markdown("```mermaid\n" + schema_mermaid(url) + "\n```"))


def current_revisions(url: URL) -> set[str]:
    with connect(url) as conn:
        if not inspect(conn).has_table("alembic_version"):
            return set()
        return {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}


def revision_mermaid(ini_path: Path, current: set[str]) -> str:
    """The revision graph of the Alembic project configured by ``ini_path``, oldest at the top."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(Config(str(ini_path)))
    by_id = {rev.revision: rev for rev in script.walk_revisions()}
    depth: dict[str, int] = {}

    def depth_of(rev_id: str) -> int:  # longest path from base: a stable order whatever the random ids
        if rev_id not in depth:
            downs = by_id[rev_id]._all_down_revisions or ()
            depth[rev_id] = 1 + max((depth_of(d) for d in downs if d in by_id), default=0)
        return depth[rev_id]

    revisions = sorted(by_id.values(), key=lambda r: (depth_of(r.revision), (r.doc or "").strip(), r.revision))
    lines = ["flowchart TD", '    base(["base"])']
    for rev in revisions:
        label = (rev.doc or "").strip().splitlines()[0] if rev.doc else ""
        label = label.replace('"', "'")
        shape = f'{{{{"{rev.revision}<br/>{label}"}}}}' if rev.is_merge_point else f'["{rev.revision}<br/>{label}"]'
        lines.append(f"    r_{rev.revision}{shape}")
    for rev in revisions:
        downs = rev._all_down_revisions or ()
        if not downs:
            lines.append(f"    base --> r_{rev.revision}")
        for down in sorted(downs, key=lambda d: (depth_of(d) if d in by_id else 0, (by_id[d].doc or "") if d in by_id else "")):
            lines.append(f"    r_{down} --> r_{rev.revision}")
    lines.append("    classDef current fill:#ffd54f,stroke:#e65100,stroke-width:3px")
    if current:
        lines.append("    class " + ",".join(f"r_{c}" for c in sorted(current)) + " current")
    else:
        lines.append("    class base current")
    return "\n".join(lines)


def revision_graph(ini_path: Path, url: URL) -> None:
    """Display the revision history as a graph; the database's current revision is highlighted."""
    display(Markdown("```mermaid\n" + revision_mermaid(ini_path, current_revisions(url)) + "\n```"))
