"""``python -m qdistill.cli``: the same as the ``qdistill`` command."""

from qdistill.cli import main

main()
