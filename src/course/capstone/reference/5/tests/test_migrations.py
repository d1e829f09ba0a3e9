"""The stairway (notebook 12): every revision's downgrade really undoes its upgrade."""

from alembic import command
from alembic.script import ScriptDirectory


def test_stairway(test_alembic_config):
    """Every revision, oldest first: upgrade to it, downgrade one, upgrade again."""
    scripts = ScriptDirectory.from_config(test_alembic_config)
    revisions = [script.revision for script in scripts.walk_revisions()][::-1]
    assert revisions == ["0001", "0002"]
    for revision in revisions:
        command.upgrade(test_alembic_config, revision)
        command.downgrade(test_alembic_config, "-1")
        command.upgrade(test_alembic_config, revision)
