"""Independent random streams derived from the one seed.

Each part of the sample (suppliers, the inbox of a month, the noise of one scan) draws
from its own stream named by labels, so adding a draw in one part never shifts another
and the same seed always gives the same files.
"""

from __future__ import annotations

import hashlib
import random


def derive_int(seed: int, *labels: object) -> int:
    """A 64-bit integer from `seed` and `labels` (stable across runs and platforms)."""
    text = "\x1f".join([str(seed), *map(str, labels)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def stream(seed: int, *labels: object) -> random.Random:
    """The random stream named `labels` under `seed`."""
    return random.Random(derive_int(seed, *labels))


def digits(rng: random.Random, n: int, first_nonzero: bool = False) -> str:
    """`n` random decimal digits."""
    out = [str(rng.randrange(10)) for _ in range(n)]
    if first_nonzero and out:
        out[0] = str(rng.randrange(1, 10))
    return "".join(out)
