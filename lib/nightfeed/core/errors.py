"""One exception type for problems a user can fix; the CLI prints it as a single line."""


class NightfeedError(Exception):
    """Bad arguments, missing inputs, failed checks: anything reported without a traceback."""
