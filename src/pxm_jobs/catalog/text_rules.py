"""Text no database column can keep, whatever the column: the catalog refuses it up front.

PostgreSQL refuses the NUL character in text, and a lone surrogate has no UTF-8 form, so
neither database can store or even compare against either. A CSV upload cannot carry them (the
upload check refuses it); a JSON body can, so every text a request brings is checked with this.
"""

from __future__ import annotations

from pxm_jobs.store.storable_text import UNSTORABLE


def unstorable_character(text: str) -> str | None:
    """What in `text` no column can keep, said for a person; None when it can be stored."""
    if text.isascii() and "\x00" not in text:
        return None
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    return "the NUL character" if found.group() == "\x00" else "a lone surrogate"


def is_storable(text: str) -> bool:
    return unstorable_character(text) is None
