"""Notebook 10: two heads and a merge, stamping an existing database, date-first file names."""

from __future__ import annotations

import configparser
import re

from course.exercises import Exercise, Verdict, WrongAttempt, not_started, probes, solved, wrong
from course.i18n import tr
from course.workspace import Workspace

NOTEBOOK = "10-team-workflows"

# The columns the chapter's revisions add: what a database stamped at a revision must already have.
ADDED_BY = {
    "0002a": ("categories", "sort_order"),
    "0002b": ("products", "sku"),
    "0004": ("categories", "icon"),
    "0005": ("products", "weight_grams"),
}


def _unparsable(ws: Workspace) -> Verdict | None:
    for path in probes.revision_files(ws):
        error = probes.syntax_error(path.relative_to(ws.path))
        if error:
            return wrong(tr("{error}: Alembic cannot load the history until it parses.", error=error))
    return None


def _listed(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else tr("{items} and {last}", items=", ".join(items[:-1]), last=items[-1])


# 10.1 -----------------------------------------------------------------------------------------


def check_merge(ws: Workspace) -> Verdict:
    broken = _unparsable(ws)
    if broken:
        return broken
    heads = sorted(probes.heads(ws))
    if heads == ["0005"]:
        return not_started(
            tr(
                "the only head is still 0005: create two revisions whose parent is 0005 "
                "(the second one with `--head 0005 --splice`)."
            )
        )
    if len(heads) > 1:
        return wrong(
            tr(
                "there are {count} heads ({heads}): `alembic merge heads` joins them in a merge revision.",
                count=len(heads),
                heads=_listed(heads),
            )
        )
    script = probes.script(ws)
    head = script.get_revision(heads[0])
    try:
        newer = [rev for rev in script.iterate_revisions(head.revision, "0005") if rev.revision != "0005"]
    except Exception:  # noqa: BLE001 - the head does not descend from 0005: no merge after it either
        newer = []
    merge = next((rev for rev in newer if rev.is_merge_point), None)
    if merge is None:
        return wrong(
            tr(
                "there is one head, {head}, but no merge after 0005: your revisions form a straight line. "
                "The second one must have 0005 as its parent too (`--head 0005 --splice`); then merge the two heads.",
                head=head.revision,
            )
        )
    merged = tr("{merge} merges {parents}", merge=merge.revision, parents=_listed(sorted(merge.down_revision)))
    in_db = sorted(probes.current(ws))
    if in_db != heads and not in_db:
        return wrong(
            tr(
                "the history is right (one head, {head}; {merged}), but the database is at "
                "no revision, not at the head: `alembic upgrade head`.",
                head=head.revision,
                merged=merged,
            )
        )
    if in_db != heads:
        return wrong(
            tr(
                "the history is right (one head, {head}; {merged}), but the database is at "
                "{current}, not at the head: `alembic upgrade head`.",
                head=head.revision,
                merged=merged,
                current=_listed(in_db),
            )
        )
    return solved(tr("one head, {head} ({merged}), and the database is at it.", head=head.revision, merged=merged))


# 10.2 -----------------------------------------------------------------------------------------


def check_stamp(ws: Workspace) -> Verdict:
    stamped = sorted(probes.current(ws))
    if not stamped:
        return not_started(
            tr(
                "the database has no `alembic_version` yet, so Alembic thinks it is empty. "
                "`alembic stamp` the revision its schema really has."
            )
        )
    script = probes.script(ws)
    applied = {rev.revision for stamp in stamped for rev in script.iterate_revisions(stamp, "base")}
    expected = {ADDED_BY[rev] for rev in applied if rev in ADDED_BY}
    present = {(t, c) for t, c in ADDED_BY.values() if probes.column(ws, t, c) is not None}
    where = _listed(stamped)
    missing, extra = sorted(expected - present), sorted(present - expected)
    if missing:
        names = _listed([f"`{t}.{c}`" for t, c in missing])
        if len(missing) == 1:
            return wrong(
                tr(
                    "`alembic_version` says {where}, but {names} does not exist: "
                    "`stamp` never runs a migration, it only records what you tell it. Stamp the revision the schema "
                    "really has, then upgrade.",
                    where=where,
                    names=names,
                )
            )
        return wrong(
            tr(
                "`alembic_version` says {where}, but {names} do not exist: "
                "`stamp` never runs a migration, it only records what you tell it. Stamp the revision the schema "
                "really has, then upgrade.",
                where=where,
                names=names,
            )
        )
    if extra:
        names = _listed([f"`{t}.{c}`" for t, c in extra])
        if len(extra) == 1:
            return wrong(
                tr(
                    "`alembic_version` says {where}, but the database already has {names}: `upgrade` would try to add "
                    "it again and fail. Stamp the revision the schema really has.",
                    where=where,
                    names=names,
                )
            )
        return wrong(
            tr(
                "`alembic_version` says {where}, but the database already has {names}: `upgrade` would try to add "
                "them again and fail. Stamp the revision the schema really has.",
                where=where,
                names=names,
            )
        )
    products = probes.rows(ws, "SELECT count(*) FROM products")[0][0]
    if products < 8:
        return wrong(
            tr(
                "only {count} of the 8 products are left: bring the existing database under Alembic without rebuilding it.",
                count=products,
            )
        )
    if not probes.at_head(ws):
        return wrong(tr("stamped {where}, which matches the schema: good. Now `alembic upgrade head`.", where=where))
    return solved(
        tr(
            "stamped with the truth, then upgraded: the database is at {where} (head) and all 8 products are there.",
            where=where,
        )
    )


# 10.3 -----------------------------------------------------------------------------------------

DATE_TOKENS = ("%(year)", "%(month)", "%(day)")


def check_dated_names(ws: Workspace) -> Verdict:
    from alembic.config import Config

    config = Config(str(ws.path / "alembic.ini"))
    try:
        template = config.get_main_option("file_template")
        timezone = config.get_main_option("timezone")
    except configparser.Error as error:
        first = str(error).splitlines()[0][:120]
        return wrong(
            tr(
                "alembic.ini cannot be read any more ({error}: {first}): configparser takes `%` "
                "for an interpolation, so in alembic.ini every literal `%` is written `%%`.",
                error=type(error).__name__,
                first=first,
            )
        )
    revision = probes.revision_file(ws, "add_products_barcode")
    dated = template is not None and all(token in template for token in DATE_TOKENS)
    if dated and template.index("%(year)") > template.find("%(rev)"):
        dated = False  # the date must come first, so that names sort by it
    if not dated:
        if revision is None and template is None:
            return not_started(
                tr("alembic.ini has no `file_template` yet: new revision files are still named `<rev>_<slug>.py`.")
            )
        if not template:
            return wrong(
                tr(
                    "`file_template` is not set: it must start with the date "
                    "(`%%(year)d_%%(month).2d_%%(day).2d_…`), before `%%(rev)s`."
                )
            )
        return wrong(
            tr(
                "`file_template` is {template}: it must start with the date "
                "(`%%(year)d_%%(month).2d_%%(day).2d_…`), before `%%(rev)s`.",
                template=template,
            )
        )
    if (timezone or "").strip().upper() != "UTC":
        return wrong(
            tr(
                "alembic.ini has a date-first `file_template` but no `timezone = UTC`: names and Create Dates then use "
                "each developer's local time, and a team's files do not sort in the order they were made."
            )
        )
    if revision is None:
        return wrong(
            tr(
                "alembic.ini is ready (date first, in UTC); now the revision `add products.barcode` "
                "(model first, then autogenerate)."
            )
        )
    if not revision.name[:4].isdigit():
        return wrong(
            tr(
                "{file} is not named date first: it was generated before the template. Delete it and generate it again.",
                file=revision.name,
            )
        )
    text = revision.read_text(encoding="utf-8")
    created = re.search(r"^Create Date: (.*)$", text, re.M)
    if created is None or not created.group(1).strip().endswith("+00:00"):
        return wrong(
            tr(
                "the Create Date of {file} has no `+00:00`: it was generated before `timezone = UTC`. Generate it again.",
                file=revision.name,
            )
        )
    upgrade = text.split("def downgrade", 1)[0]
    if not re.search(r"add_column\(\s*['\"]products['\"],\s*sa\.Column\(\s*['\"]barcode['\"]", upgrade):
        return wrong(
            tr(
                "{file} does not add `products.barcode`: is `barcode` in the Product model, and did you use `--autogenerate`?",
                file=revision.name,
            )
        )
    if probes.column(ws, "products", "barcode") is None or not probes.at_head(ws):
        return wrong(tr("{file} is right, but not applied yet: `alembic upgrade head`.", file=revision.name))
    return solved(tr("{file}: date first, in UTC, and `products.barcode` is in the database.", file=revision.name))


EXERCISES = [
    Exercise(
        id="10.1",
        title="Make two heads, then merge them",
        check=check_merge,
        solution=(
            '%alembic revision -m "exercise: developer A" --rev-id ex_a\n'
            '%alembic revision -m "exercise: developer B" --rev-id ex_b --head 0005 --splice\n'
            "%alembic heads\n"
            '%alembic merge -m "exercise: merge" heads --rev-id ex_merge\n'
            "%alembic upgrade head"
        ),
        explanation="Both revisions have `down_revision = '0005'`: that is what two developers working from the same "
        "`main` produce. In one workspace the second needs `--head 0005 --splice`, because 0005 is no longer a head. "
        "`alembic merge heads` writes a revision whose `down_revision` is the tuple of both heads, so there is one head "
        "again, and `upgrade head` applies both branches and the merge.",
        wrong=(
            WrongAttempt(
                '%alembic revision -m "exercise: developer A" --rev-id ex_a\n'
                '%alembic revision -m "exercise: developer B" --rev-id ex_b --head 0005 --splice\n'
                '%alembic merge -m "exercise: merge" heads --rev-id ex_merge',
                "not at the head",
            ),
            WrongAttempt(
                '%alembic revision -m "exercise: developer A" --rev-id ex_a\n'
                '%alembic revision -m "exercise: developer B" --rev-id ex_b\n'
                "%alembic upgrade head",
                "no merge after 0005",
            ),
        ),
    ),
    Exercise(
        id="10.2",
        title="Stamp an existing database correctly",
        check=check_stamp,
        solution="%alembic stamp 0003\n# %%\n%alembic upgrade head",
        explanation="The schema is that of `0003`, so `stamp 0003` records the truth without running anything. "
        "`upgrade head` then runs only what comes after it (`0004`, `0005` and your merge), on the existing rows. "
        "Stamping `head` would have recorded migrations that never ran, and `upgrade` would have had nothing to do.",
        wrong=(
            WrongAttempt("%alembic stamp head", "`stamp` never runs a migration"),
            WrongAttempt("%alembic stamp 0001\n%alembic upgrade head", "already has"),
        ),
    ),
    Exercise(
        id="10.3",
        title="Date-first file names for the whole team",
        check=check_dated_names,
        solution=(
            "%%insert_after app/models/product.py Product.weight_grams\n"
            "    barcode: Mapped[str | None] = mapped_column(String(13))\n"
            "# %%\n"
            'course.edit_file("alembic.ini", "# file_template = %%(year)d_", "file_template = %%(year)d_")\n'
            'course.edit_file("alembic.ini", "# timezone =\\n", "timezone = UTC\\n")\n'
            '%alembic revision --autogenerate -m "add products.barcode"\n'
            "%alembic upgrade head"
        ),
        explanation="The project's own `alembic.ini` gets the commented date-first template (its `%%` is how "
        "configparser writes a `%`) and `timezone = UTC`, so every developer's new files sort by the moment they "
        "were made, whatever their time zone. Settings in `alembic.ini` only affect files generated after them; "
        "the older names stay as they are, and Alembic orders revisions by `down_revision` anyway.",
        wrong=(
            WrongAttempt(
                "%%insert_after app/models/product.py Product.weight_grams\n"
                "    barcode: Mapped[str | None] = mapped_column(String(13))\n"
                "# %%\n"
                'course.edit_file("alembic.ini", "# file_template = %%(year)d_", "file_template = %%(year)d_")\n'
                '%alembic revision --autogenerate -m "add products.barcode"\n'
                "%alembic upgrade head",
                "timezone = UTC",
            ),
            WrongAttempt(
                'course.edit_file("alembic.ini", "# file_template = %%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s",'
                ' "file_template = %(year)d_%(month).2d_%(day).2d_%(hour).2d%(minute).2d-%(rev)s_%(slug)s")\n'
                'course.edit_file("alembic.ini", "# timezone =\\n", "timezone = UTC\\n")',
                "written `%%`",
            ),
        ),
        on_your_own=True,
    ),
]
