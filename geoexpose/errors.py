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
    "one_line",
]


def one_line(message: object) -> str:
    """Fold a message onto one line, as geoexpose reports every problem.

    >>> one_line("a.csv: row 3:  no time ")
    'a.csv: row 3: no time'
    """
    return " ".join(str(message).split())


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
