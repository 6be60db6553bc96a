"""The one exception type the command line turns into a single clear line and a non-zero exit."""


class QdistillError(Exception):
    """A user-facing error: bad input, a failed check or a missing tool.

    The message must name the bad input and what would fix it; the CLI prints it as one line.
    """


class SettingError(QdistillError):
    """A setting of a config dataclass out of range.

    ``setting`` is the dataclass field (e.g. ``n_blocks``), so that each front end names its own
    option for it (the CLI's ``--blocks``); ``requirement`` says what the value must be.
    """

    def __init__(self, setting: str, requirement: str) -> None:
        self.setting = setting
        self.requirement = requirement
        super().__init__(f"{setting} {requirement}")
