"""Exercise checks: a friendly verdict the learner can act on."""

from __future__ import annotations

PASS_MARK = "✅ Well done"
FAIL_MARK = "❌ Not yet"


def verdict(ok: bool, praise: str, hint: str) -> None:
    """Print whether an exercise is solved; ``hint`` says what to try when it is not."""
    print(f"{PASS_MARK}: {praise}" if ok else f"{FAIL_MARK}: {hint}")
