"""Wire helpers of the Factuursturen simulator: request bodies in, JSON out.

The real API takes the body form-encoded with PHP-style bracket keys — the official PHP class
``fsnl_api`` builds it with ``http_build_query`` (``lines[0][amount]=1``) — and, per the
developer pages' "Or as a JSON" examples, as JSON [V]. curl clients that hand PHP an array send
multipart form data; PHP reads all three alike [I], so the simulator does too.

>>> parse_body(b"clientnr=2&lines[0][amount]=1&lines[0][price]=9.95&reference[line1]=WA1",
...            "application/x-www-form-urlencoded")
{'clientnr': '2', 'lines': {'0': {'amount': '1', 'price': '9.95'}}, 'reference': {'line1': 'WA1'}}
>>> dumps({"price": Decimal("13.50"), "url": "https://x/y", "lines": {}})
'{"price":13.5,"url":"https:\\\\/\\\\/x\\\\/y","lines":[]}'
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

__all__ = [
    "AMSTERDAM",
    "DATE",
    "ApiAnswer",
    "BodyError",
    "as_list",
    "dec",
    "dumps",
    "page",
    "parse_body",
    "truthy",
]

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class ApiAnswer(Exception):
    """An API answer raised from deep inside a handler (errors and the rate limit)."""

    def __init__(self, status: int, text: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
        self.headers = list(headers)


def dec(value: Any, name: str) -> Decimal:
    """A posted number (dot as decimal separator) as Decimal, or a 400 answer [S message]."""
    text = str(value).strip()
    if not _NUMBER.match(text):
        raise ApiAnswer(
            400, f"Invalid value for {name}: {text!r}. Use a number with a dot as decimal separator."
        )
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already guards
        raise ApiAnswer(400, f"Invalid value for {name}: {text!r}.") from exc


def truthy(value: Any) -> bool:
    """A posted boolean: "true"/"1"/"yes"/"on" (any case) [I]."""
    return str(value).strip().lower() in ("true", "1", "yes", "on")


def page(items: list[Any], query: dict[str, str]) -> list[Any]:
    """``start`` (offset, default 0) and ``count`` (default 100, -1 = all) [I: see the docs]."""
    try:
        start = max(0, int(query.get("start") or 0))
        count = int(query.get("count") or 100)
    except ValueError as exc:
        raise ApiAnswer(400, "start and count must be whole numbers") from exc
    return items[start:] if count < 0 else items[start : start + count]


class BodyError(ValueError):
    """The request body cannot be read (bad JSON, nesting conflict)."""


def _scalar(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _scalar(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scalar(v) for v in value]
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``a[b][c]=v`` pairs -> nested dicts (``a[]`` appends with a running index), like PHP."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if not match:
            root[key] = value
            continue
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if part == "":
                part = str(len(node))
            if last:
                node[part] = value
                continue
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise BodyError(f"field {key!r} conflicts with a plain value")
            node = child
    return root


def parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    """The request body as nested dicts of strings (JSON values normalised to strings)."""
    ctype = content_type.split(";")[0].strip().lower()
    if not body.strip():
        return {}
    if ctype == "application/json" or ctype.endswith("+json"):
        try:
            data = json.loads(body.decode("utf-8"), parse_float=Decimal)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BodyError(f"invalid JSON: {exc}") from exc
        if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
            data = data[0]  # Factuursturen.NET posts clients wrapped in an array
        if not isinstance(data, dict):
            raise BodyError("a JSON object is expected")
        return _scalar(data)
    if ctype == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
        )
        pairs = []
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                pairs.append((str(name), str(part.get_content()).strip("\r\n")))
        return _nest(pairs)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError("the form body is not UTF-8") from exc
    return _nest(parse_qsl(text, keep_blank_values=True))


def _order(key: str) -> tuple[int, str]:
    digits = re.sub(r"\D", "", key)
    return (int(digits) if digits else 1_000_000, key)


def as_list(value: Any) -> list[Any]:
    """``lines`` as posted — a list, an object keyed 0/1/… or line1/line2/… — as a list in order."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value[key] for key in sorted(value, key=_order)]
    return []


def _number(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text


def dumps(value: Any) -> str:
    """JSON like PHP's ``json_encode``: Decimals as plain numbers, ``/`` escaped, {} -> []."""
    if isinstance(value, dict):
        if not value:
            return "[]"
        return "{" + ",".join(f"{dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return _number(value)
    return json.dumps(str(value), ensure_ascii=False).replace("/", "\\/")
