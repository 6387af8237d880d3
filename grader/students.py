"""Student ids: the one rule that makes, checks and shows them (command line, web, notebooks, exports).

A student id is letters, digits and ``. _ @ + -``, starting with a letter or
digit, at most 128 characters (:data:`STUDENT_ID`). Names found elsewhere
(a folder, a file name, a notebook's metadata, an LMS export) become ids by
:func:`student_id`, the same on every path, so one notebook is never graded
as ``Anna Müller`` on one path and ``Anna_M_ller`` on another: accents are
dropped (``Anna Müller`` → ``Anna_Muller``), any other character becomes
``_``.
"""

from __future__ import annotations

import re
import unicodedata

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}\Z")  # \Z: "s001\n" is not s001
ID_RULE = "letters, digits and . _ @ + - (at most 128 characters)"
ROLES = ("student", "ta", "instructor")  # what a token may act as (grader.store.users)
STAFF_ROLES = ("ta", "instructor")
_OTHER = re.compile(r"[^A-Za-z0-9._@+-]+")


def is_student_id(text: object) -> bool:
    """Whether ``text`` is a valid student id as it stands."""
    return isinstance(text, str) and bool(STUDENT_ID.match(text))


def student_id(name: str) -> str:
    """``name`` as a valid student id: accents dropped, other characters ``_``, bounded; ``unknown`` if nothing is left."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    cleaned = _OTHER.sub("_", plain).lstrip("._@+-").rstrip("_")[:128]
    return cleaned or "unknown"


def shown(text: str) -> str:
    """A name as given (for a warning that quotes it), bounded, without control or format characters."""
    return "".join("_" if unicodedata.category(c)[0] == "C" else c for c in text[:128]) or "unknown"
