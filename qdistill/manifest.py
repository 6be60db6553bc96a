"""The one convention for the JSON files qdistill writes: a schema tag and strict JSON.

Every manifest begins with ``"format": "qdistill.<kind>"`` and ``"format_version": N`` (N counts
incompatible changes), and is written as strict JSON: NaN and infinities are refused at write
time rather than written as the non-JSON tokens ``NaN``/``Infinity``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import PurePath
from typing import Any, Final

import numpy as np

from qdistill.errors import QdistillError

FORMAT_KEY: Final[str] = "format"
VERSION_KEY: Final[str] = "format_version"


def format_name(kind: str) -> str:
    """The ``format`` value of a manifest kind, e.g. ``qdistill.teacher``."""
    return f"qdistill.{kind}"


def tagged(kind: str, version: int, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with the schema tag in front."""
    return {FORMAT_KEY: format_name(kind), VERSION_KEY: version, **body}


def has_tag(data: Any, kind: str, version: int) -> bool:
    """Whether ``data`` is a JSON object tagged as a ``kind`` manifest of ``version``."""
    return isinstance(data, dict) and (data.get(FORMAT_KEY), data.get(VERSION_KEY)) == (
        format_name(kind),
        version,
    )


def check_tag(data: Any, kind: str, version: int, source: str | os.PathLike[str]) -> None:
    """QdistillError naming ``source`` unless ``data`` is a ``kind`` manifest of ``version``."""
    if not isinstance(data, dict):
        raise QdistillError(f"{source}: expected a JSON object, got {type(data).__name__}")
    if not has_tag(data, kind, version):
        found = (data.get(FORMAT_KEY), data.get(VERSION_KEY))
        raise QdistillError(
            f"{source}: not a {format_name(kind)} version {version} file (format {found[0]!r}, "
            f"version {found[1]!r}); write it again with this qdistill"
        )


def dumps(data: Any) -> str:
    """Strict, indented JSON text ending in a newline: NaN and infinities become ``null``.

    NumPy scalars and arrays become numbers and lists, paths become strings.
    """
    return json.dumps(strict(data), indent=2, allow_nan=False) + "\n"


def strict(value: Any) -> Any:
    """``value`` made JSON-ready: NumPy to Python, non-finite floats to None, paths to str."""
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict(v) for v in value]
    if isinstance(value, np.ndarray):
        return strict(value.tolist())
    if isinstance(value, np.generic):
        return strict(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, PurePath):
        return str(value)
    return value


def read_json(path: str | os.PathLike[str]) -> Any:
    """The parsed JSON of ``path``; QdistillError naming it when missing or not JSON."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise QdistillError(f"{path}: missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise QdistillError(f"{path}: not valid JSON ({exc})") from None
