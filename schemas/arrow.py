"""pyarrow schemas derived from the record NamedTuples (pinned by golden files)."""
from __future__ import annotations

import json
import typing

import pyarrow as pa

_SCALARS = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}


def _arrow_type(typ) -> tuple:
    """(arrow type, nullable) for a Python annotation."""
    origin = typing.get_origin(typ)
    if origin is typing.Union:
        args = [a for a in typing.get_args(typ) if a is not type(None)]
        inner, _ = _arrow_type(args[0])
        return inner, True
    if origin is list:
        (arg,) = typing.get_args(typ)
        inner, _ = _arrow_type(arg)
        return pa.list_(inner), False
    if typ in _SCALARS:
        return _SCALARS[typ], False
    if hasattr(typ, "__annotations__") and hasattr(typ, "_fields"):
        return pa.struct([_arrow_field(n, t) for n, t in typing.get_type_hints(typ).items()]), False
    raise TypeError(f"no Arrow type for {typ!r}")


def _arrow_field(name, typ) -> pa.Field:
    arrow, nullable = _arrow_type(typ)
    return pa.field(name, arrow, nullable=nullable)


def arrow_schema(cls) -> pa.Schema:
    """The Parquet schema of a record type, with the schema version in its metadata."""
    from schemas.records import SCHEMA_VERSION

    fields = [_arrow_field(n, t) for n, t in typing.get_type_hints(cls).items()]
    return pa.schema(
        fields,
        metadata={b"reasoning_corpus.record": cls.__name__.encode(),
                  b"reasoning_corpus.schema_version": SCHEMA_VERSION.encode()},
    )


def describe(cls) -> dict:
    """A JSON-able description of the Arrow schema (what the golden files hold)."""
    from schemas.records import SCHEMA_VERSION

    schema = arrow_schema(cls)
    return {
        "record": cls.__name__,
        "schema_version": SCHEMA_VERSION,
        "fields": [
            {"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema
        ],
    }


def describe_json(cls) -> str:
    return json.dumps(describe(cls), indent=2) + "\n"


def write_golden(folder: str) -> None:
    """Regenerate the golden files (after a deliberate schema change and version bump)."""
    import os

    from schemas.records import RECORD_TYPES

    for name, cls in RECORD_TYPES.items():
        with open(os.path.join(folder, f"{name}.json"), "w", encoding="utf-8") as fh:
            fh.write(describe_json(cls))


if __name__ == "__main__":  # python -m schemas.arrow
    import os

    write_golden(os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden"))
