"""lutc's exceptions: one class per exit-code class of the ``lutc`` CLI.

The C++ core raises ``lutc::Error`` with an exit code (model/include/lutc/model/error.h);
the extension turns it into the subclass below for that code, with the CLI's message.
"""


class Error(Exception):
    """Base of every error lutc raises; ``exit_code`` is the CLI's exit status for it."""

    exit_code = 70

    def __init__(self, message: str, exit_code=None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = int(exit_code)


class UsageError(Error, ValueError):
    """Bad options or arguments (CLI exit code 2)."""

    exit_code = 2


class BadInputError(Error, ValueError):
    """Malformed, truncated or corrupt input, or bad values (exit code 3)."""

    exit_code = 3


class IoError(Error, OSError):
    """Cannot open, read, write or rename a file (exit code 4)."""

    exit_code = 4


class QualityError(Error):
    """A requested quality floor was missed (exit code 5)."""

    exit_code = 5


class InternalError(Error, RuntimeError):
    """A broken invariant or a limit of the environment (exit code 70)."""

    exit_code = 70


_BY_CODE = {c.exit_code: c for c in (UsageError, BadInputError, IoError, QualityError, InternalError)}


def error_class(code: int) -> type:
    """The exception class for a CLI exit code (``Error`` for an unknown one)."""
    return _BY_CODE.get(int(code), Error)
