"""``python -m app`` is the same as the ``safecase`` command."""

from app.cli import main

main()
