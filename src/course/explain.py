"""Connection failures explained in a few lines a learner can act on, instead of a traceback."""

from __future__ import annotations

from course.i18n import tr


def _cause(text: str) -> tuple[str, str]:
    """Why it failed, and which setting to change."""
    if "password" in text and ("authentication" in text or "invalid" in text):
        return tr("the server rejected the user name or password"), tr("DB_USER / DB_PASS (or the password inside DATABASE_URL)")
    if "permission denied for database" in text:
        return (
            tr("that database is another learner's: on a shared server only its owner may connect to it"),
            tr("nothing to another learner's database; your own are named after COURSE_LEARNER (python run.py db says it)"),
        )
    if "does not exist" in text and "database" in text:
        return tr("the database does not exist on that server"), tr(
            "DB_NAME (or the path of DATABASE_URL), or create the database"
        )
    if any(s in text for s in ("name or service not known", "nodename nor servname", "getaddrinfo", "no address associated")):
        return tr("the host name could not be resolved"), tr("DB_HOST (or the host inside DATABASE_URL)")
    if any(s in text for s in ("refused", "connect call failed", "no such file", "timeout", "timed out", "unreachable")):
        return (
            tr("no PostgreSQL server answered at that address"),
            tr("DB_HOST / DB_PORT (or DATABASE_URL), and check that the server is running"),
        )
    return tr("the connection failed"), tr("DATABASE_URL or the DB_* settings")


def explain_connection_error(error: BaseException, tried: str) -> str:
    """Five lines: what was tried (``tried``, no password in it), why it failed, what to change."""
    text = f"{type(error).__name__}: {error}".strip()
    why, fix = _cause(text.lower())
    first_line = text.splitlines()[0][:300] if text else type(error).__name__
    return tr(
        "Cannot connect to the database.\n"
        "  Tried:  {tried}\n"
        "  Why:    {why} ({first_line})\n"
        "  Fix:    set {fix} in the environment or in .env (see .env.example);\n"
        "          unset them all to use the course's embedded PostgreSQL.",
        tried=tried,
        why=why,
        first_line=first_line,
        fix=fix,
    )
