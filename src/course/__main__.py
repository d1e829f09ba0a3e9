"""``python -m course db | db-stop | lab | clean``: see ``course.cli``."""

from course.cli import main

raise SystemExit(main())
