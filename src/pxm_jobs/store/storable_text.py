"""Characters no text column keeps, and how an error that quotes them is still stored.

PostgreSQL refuses the NUL character in text, and a lone surrogate has no UTF-8 form: neither
database can keep either. The catalog refuses them in what it stores (`catalog.text_rules`);
an error that names bad input may still quote them, and is kept with their escapes instead.
"""

from __future__ import annotations

import re
from typing import Final

UNSTORABLE: Final = re.compile("[\x00\ud800-\udfff]")


def escape_unstorable(text: str) -> str:
    """`text` with each character no column can keep written as its escape (`\\x00`)."""
    if text.isascii() and "\x00" not in text:
        return text
    return UNSTORABLE.sub(lambda found: ascii(found.group())[1:-1], text)
