"""The one exception type the command line turns into a single clear line and a non-zero exit."""


class QdistillError(Exception):
    """A user-facing error: bad input, a failed check or a missing tool.

    The message must name the bad input and what would fix it; the CLI prints it as one line.
    """
