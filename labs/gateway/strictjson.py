"""JSON at the gateway's trust boundary: one reading of a body, the same one the engine could have.

The Docker engine (Go's encoding/json) matches field names case-insensitively and keeps the LAST of
duplicate keys; a checker that reads the first, or the exact spelling, sees another request than the
engine runs (`"hostconfig": {"Privileged": true}` beside an empty `"HostConfig"`). So `loads` refuses
every body that two readers could read differently, before anything looks at it:

- not UTF-8 (Go would put U+FFFD where Python refuses), or a `\\uD800`-style lone surrogate escape;
- two keys of one object that are equal, or equal under case folding (`"Image"` and `"image"`; folding
  also covers Go's `ſ`/`s` and Kelvin-sign/`k` matches). This holds for every object, maps like `Labels`
  included: `{"a": "1", "A": "2"}` is refused although the engine would keep both labels;
- NaN, Infinity, -Infinity (not JSON; Python accepts them) and numbers beyond a double (`1e400`);
- nesting deeper than `max_depth` (checked on the raw bytes, before the recursive parser runs);
- bodies over `limit` bytes, and anything else that is not exactly one JSON value.

Every refusal is `Refused(..., status=400)` with a message in Docker's own words ("invalid JSON: ...").
`dumps` is the one writer of what goes to the engine: compact, ASCII only, no NaN.

Pure, no I/O, importable without Django.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .policy import Refused

MIB = 1024 * 1024
DEFAULT_LIMIT = 16 * MIB
DEFAULT_MAX_DEPTH = 64

# A JSON string in the raw bytes (the unrolled-loop form: linear, no backtracking). Used only to
# blank out strings before the bracket count; the parser proper is the json module.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
# A \uD800-\uDFFF escape (maybe preceded by an escaped backslash: then it is text, and the walk finds nothing).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def loads(data: bytes, *, limit: int = DEFAULT_LIMIT, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Parse one JSON value from `data` (bytes), refusing anything two JSON readers could disagree on."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"loads() takes bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) > limit:
        raise Refused(f"invalid JSON: the request body is larger than {limit} bytes", status=400)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(f"invalid JSON: the request body is not UTF-8 (byte {exc.start})", status=400) from exc
    _check_depth(data, max_depth)
    try:
        value = _DECODER.decode(text)
    except RecursionError as exc:  # not reached after _check_depth; kept as a second fence
        raise Refused(f"invalid JSON: nested deeper than {max_depth} levels", status=400) from exc
    except ValueError as exc:  # json.JSONDecodeError, and int() past sys.get_int_max_str_digits()
        raise Refused(f"invalid JSON: {exc}", status=400) from exc
    if _SURROGATE_ESCAPE.search(data) and _has_surrogate(value):
        raise Refused("invalid JSON: a string holds a lone UTF-16 surrogate (\\ud800-\\udfff)", status=400)
    return value


def dumps(obj: Any) -> bytes:
    """The canonical bytes of `obj`: compact, ASCII only (every non-ASCII character escaped), no NaN."""
    return json.dumps(obj, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


# --- the pieces -------------------------------------------------------------------------------------


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise Refused(f"invalid JSON: duplicate key {_quote(key)}", status=400)
            seen.add(key)
    folded: dict[str, str] = {}
    for key in obj:
        other = folded.setdefault(key.casefold(), key)
        if other is not key:
            raise Refused(
                f"invalid JSON: keys {_quote(other)} and {_quote(key)} differ only in case, "
                "and the Docker engine takes them as the same field",
                status=400,
            )
    return obj


def _constant(name: str) -> Any:
    raise Refused(f"invalid JSON: {name} is not a JSON number", status=400)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise Refused(f"invalid JSON: the number {text[:40]} is out of range", status=400)
    return value


_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_constant=_constant, parse_float=_float, strict=True)


def _check_depth(data: bytes, max_depth: int) -> None:
    """Refuse more than `max_depth` nested arrays/objects, without recursion.

    Strings are blanked, the rest reduced to its brackets (`{}` as `[]`); each round removes every
    innermost `[]` pair, so a valid value of depth d is gone after d rounds. When no pair is left,
    what remains is `]...][...[` (unbalanced: invalid JSON, which the parser reports) and the parser
    could go no deeper than the rounds done plus the `[` left."""
    skeleton = _STRING.sub(b"", data).translate(_BRACKETS, _NOT_BRACKETS)
    too_deep = b"[" * (max_depth + 1)  # consecutive opens are nested: a shortcut for the obvious case
    rounds = 0
    while skeleton and rounds <= max_depth:
        if too_deep in skeleton:
            break
        shorter = skeleton.replace(b"[]", b"")
        if len(shorter) == len(skeleton):
            break
        skeleton = shorter
        rounds += 1
    if too_deep in skeleton or rounds + skeleton.count(b"[") > max_depth:
        raise Refused(f"invalid JSON: nested deeper than {max_depth} levels", status=400)


def _has_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            for key, sub in item.items():
                if _SURROGATE.search(key):
                    return True
                stack.append(sub)
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _quote(key: str, limit: int = 80) -> str:
    """A key for a message: JSON-quoted (control characters escaped), shortened."""
    return json.dumps(key if len(key) <= limit else key[:limit] + "...")
