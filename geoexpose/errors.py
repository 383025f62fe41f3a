"""Exceptions and warnings raised by geoexpose.

Every exception derives from :class:`GeoexposeError` and also from the builtin
that matches it, so callers may catch either.
"""

__all__ = [
    "GeoexposeError",
    "GeoexposeWarning",
    "InputError",
    "InputWarning",
    "OutputExistsError",
    "UsageError",
    "counted",
    "first_line",
    "one_line",
    "printable",
]


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """Return ``n`` and its noun, singular for one: the count in a message.

    >>> counted(1, "file"), counted(3, "file"), counted(2, "capture x site", "captures x site")
    ('1 file', '3 files', '2 captures x site')
    """
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def printable(text: str) -> str:
    r"""Return ``text`` with control and other unprintable characters escaped.

    File names and fields come from outside: an escape sequence in one must reach a
    terminal, a log or a report as text, not as a command.

    >>> printable("a\x1b]8;;x\x07b.jpg: bad\nrow")
    'a\\x1b]8;;x\\x07b.jpg: bad\\nrow'
    """
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


def one_line(message: object) -> str:
    r"""Fold a message onto one line of printable text, as geoexpose reports every problem.

    >>> one_line("a.csv: row 3:  no time ")
    'a.csv: row 3: no time'
    >>> one_line("\x1b[2Jb.csv: bad")
    '\\x1b[2Jb.csv: bad'
    """
    return printable(" ".join(str(message).split()))


def first_line(exc: BaseException) -> str:
    r"""Return the first line of an error's message, or its type's name where it has none.

    >>> first_line(ValueError("Error tokenizing data.\nC error: ...")), first_line(OSError())
    ('Error tokenizing data.', 'OSError')
    """
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class GeoexposeError(Exception):
    """Base class of every geoexpose error."""


class InputError(GeoexposeError, ValueError):
    """An input file or frame cannot be read or does not fit the schema.

    The message names the file, and the row or field where it applies.
    """


class UsageError(GeoexposeError, ValueError):
    """An option or argument has a value geoexpose cannot use."""


class OutputExistsError(GeoexposeError, FileExistsError):
    """An output exists and ``overwrite`` was not given."""


class GeoexposeWarning(UserWarning):
    """Base class of every geoexpose warning."""


class InputWarning(GeoexposeWarning):
    """A file or rows of it were skipped; the rest of the work goes on."""
