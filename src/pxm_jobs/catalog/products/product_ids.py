"""Ids for new products: random (version 4) UUIDs, made in bulk."""

from __future__ import annotations

import os


def new_product_ids(count: int) -> list[str]:
    """`count` random (version 4) UUIDs as strings.

    Made from one call for random bytes: `str(uuid.uuid4())` per row costs as much as parsing
    the row. The bits set are those of uuid4: version 4, RFC 4122 variant.
    """
    digits = os.urandom(16 * count).hex()
    ids = []
    for start in range(0, 32 * count, 32):
        d = digits[start : start + 32]
        ids.append(f"{d[:8]}-{d[8:12]}-4{d[13:16]}-{_VARIANT[d[16]]}{d[17:20]}-{d[20:]}")
    return ids


# The variant's two high bits are 10: the nibble's low two bits stay random.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
