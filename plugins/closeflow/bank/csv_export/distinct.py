"""Reading a column of cells (dates, amounts, markers, currencies) with a scalar reader, once
per distinct value of each chunk: the Python work follows the variety of the values (a
year of booking dates is 365 values), not their number, and the results are Arrow arrays,
never a Python object per row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def map_distinct(
    column: pa.ChunkedArray, read: Callable[[str], Any], types: list[pa.DataType]
) -> list[pa.ChunkedArray]:
    """`read` of each value of `column`, one column per item of the tuples it returns (of
    `types`); a null cell gives nulls."""
    outs: list[list[pa.Array]] = [[] for _ in types]
    for chunk in column.chunks:
        encoded = chunk.dictionary_encode()
        results = [read(v) for v in encoded.dictionary.to_pylist()]
        for k, (out, type_) in enumerate(zip(outs, types, strict=True)):
            values = pa.array([r[k] for r in results], type_)
            out.append(values.take(encoded.indices))
    return [pa.chunked_array(out, t) for out, t in zip(outs, types, strict=True)]


def map_one(column: pa.ChunkedArray, read: Callable[[str], Any], type_: pa.DataType):
    """`read` of each value of `column` (of `type_`); a null cell gives null."""
    return map_distinct(column, lambda v: (read(v),), [type_])[0]


def flags(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A boolean column as numpy (null: False)."""
    return np.asarray(pc.fill_null(column, False).to_numpy(zero_copy_only=False), bool)


def present(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Where `column` holds a value."""
    return np.asarray(pc.is_valid(column).to_numpy(zero_copy_only=False), bool)


def integers(column: pa.ChunkedArray | pa.Array, type_: pa.DataType | None = None) -> np.ndarray:
    """An integer column as numpy integers of `type_` (int64; dates: int32 days); null: 0."""
    filled = pc.fill_null(column.cast(type_ or pa.int64()), 0)
    return np.asarray(filled.to_numpy(zero_copy_only=False))
