"""Connection failures explained in a few lines a learner can act on, instead of a traceback."""

from __future__ import annotations


def _cause(text: str) -> tuple[str, str]:
    """Why it failed, and which setting to change."""
    if "password" in text and ("authentication" in text or "invalid" in text):
        return "the server rejected the user name or password", "DB_USER / DB_PASS (or the password inside DATABASE_URL)"
    if "permission denied for database" in text:
        return (
            "that database is another learner's: on a shared server only its owner may connect to it",
            "nothing to another learner's database; your own are named after COURSE_LEARNER (python run.py db says it)",
        )
    if "does not exist" in text and "database" in text:
        return "the database does not exist on that server", "DB_NAME (or the path of DATABASE_URL), or create the database"
    if any(s in text for s in ("name or service not known", "nodename nor servname", "getaddrinfo", "no address associated")):
        return "the host name could not be resolved", "DB_HOST (or the host inside DATABASE_URL)"
    if any(s in text for s in ("refused", "connect call failed", "no such file", "timeout", "timed out", "unreachable")):
        return (
            "no PostgreSQL server answered at that address",
            "DB_HOST / DB_PORT (or DATABASE_URL), and check that the server is running",
        )
    return "the connection failed", "DATABASE_URL or the DB_* settings"


def explain_connection_error(error: BaseException, tried: str) -> str:
    """Five lines: what was tried (``tried``, no password in it), why it failed, what to change."""
    text = f"{type(error).__name__}: {error}".strip()
    why, fix = _cause(text.lower())
    first_line = text.splitlines()[0][:300] if text else type(error).__name__
    return (
        f"Cannot connect to the database.\n"
        f"  Tried:  {tried}\n"
        f"  Why:    {why} ({first_line})\n"
        f"  Fix:    set {fix} in the environment or in .env (see .env.example);\n"
        f"          unset them all to use the course's embedded PostgreSQL."
    )
