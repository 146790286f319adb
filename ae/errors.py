"""The one error type for bad user input, and the door every user-supplied file goes through.

Pages and the CLI catch `InputError` alone and show its message; anything else is a bug. Libraries raise a zoo of
types for a bad file (zipfile.BadZipFile, PIL's DecompressionBombError, MemoryError, RecursionError from a deeply
nested JSON, torch's allocation errors), so loaders wrap their work in `user_input(...)`, which turns each of these
into an InputError naming the file.
"""

from __future__ import annotations

import contextlib
import struct
import zipfile
import zlib
from collections.abc import Iterator


class InputError(ValueError):
    """A file, name or setting from the user cannot be used; the message says why, in words for the user."""


# (exception types or class names, what the message says), first match wins
_WORDS: list[tuple[tuple[type | str, ...], str]] = [
    ((MemoryError, "OutOfMemoryError"), "needs more memory than this server can give it"),
    ((RecursionError,), "is nested too deeply to read"),
    ((zipfile.BadZipFile, zlib.error, EOFError, struct.error), "is corrupt or truncated ({kind})"),
    (("DecompressionBombError", "DecompressionBombWarning"), "is an image too large to decode safely"),
    ((UnicodeDecodeError,), "is not text in a known encoding (save it as UTF-8)"),
    ((IsADirectoryError,), "is a folder, not a file"),
    ((FileNotFoundError,), "does not exist"),
    ((OSError,), "cannot be read ({kind}: {e})"),
]


def _translate(what: str, e: BaseException) -> InputError:
    kind = e.__class__.__name__
    if "not enough memory" in str(e).lower():  # torch's CPU allocator says it in a RuntimeError
        kind = "OutOfMemoryError"
    for types, words in _WORDS:
        if any(kind == t if isinstance(t, str) else isinstance(e, t) for t in types):
            return InputError(f"{what} " + words.format(kind=kind, e=e))
    return InputError(f"{what} cannot be used ({kind}: {e})")


TRANSLATED = (MemoryError, RecursionError, zipfile.BadZipFile, zlib.error, EOFError, struct.error, OSError,
              UnicodeDecodeError)


@contextlib.contextmanager
def user_input(what: str) -> Iterator[None]:
    """Run a loader on user input: InputError passes through, the known failure types of bad files become one.

    `what` names the input for the message ("digits.npz"). A plain ValueError from a parsing library becomes an
    InputError too; TypeError, KeyError and the like are bugs and stay what they are.
    """
    try:
        yield
    except (InputError, FileExistsError):  # FileExistsError: a name is taken, which callers say in their own words
        raise
    except TRANSLATED as e:
        raise _translate(what, e) from e
    except ValueError as e:
        raise InputError(f"{what}: {e}") from e
    except Exception as e:
        if e.__class__.__name__ in ("DecompressionBombError", "OutOfMemoryError"):
            raise _translate(what, e) from e
        raise
