"""The one exception type gankit raises for problems the user can fix.

The CLI prints a :class:`GankitError` as a single line (no traceback), so the message must name
the thing at fault (file, column, option) and say what to do about it.
"""


class GankitError(Exception):
    """A user-facing error: bad input, a missing file, an invalid option.

    Example:
        >>> raise GankitError("folder 'photos/' holds no images; add PNG/JPEG files")
        Traceback (most recent call last):
        gankit.errors.GankitError: folder 'photos/' holds no images; add PNG/JPEG files
    """
