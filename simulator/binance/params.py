"""Parsing of every numeric request parameter, checked for shape, size and range before anything uses it.

Binance documents its parameters as LONG or DECIMAL with ASCII-digit patterns; Python's ``int()`` and
``Decimal()`` accept far more (``"1_0"``, ``" 7 "``, ``"１"``, ``"1e308"``, ``"nan"``, 400-digit numbers), and a
value that only fails later (in a float conversion, a quantize or a loop bound) is a 500 or a hung server.
So each value is matched against the documented pattern first and refused with -1100 naming the parameter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

from . import errors

INT64_MAX = (1 << 63) - 1
_LONG_RE = re.compile(r"^-?[0-9]{1,19}\Z")
_DEC_RE = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,20})?\Z")
_SIGNED_DEC_RE = re.compile(r"^-?[0-9]{1,20}(\.[0-9]{1,20})?\Z")
_RECV_RE = re.compile(r"^[0-9]{1,5}(\.[0-9]{1,3})?\Z")
LONG_PATTERN = "^-?[0-9]{1,19}$"
DEC_PATTERN = "^([0-9]{1,20})(\\.[0-9]{1,20})?$"


def long_value(text: str, name: str, lo: int = -INT64_MAX - 1, hi: int = INT64_MAX) -> int:
    """A LONG within ``[lo, hi]``; -1100 otherwise."""
    if not isinstance(text, str) or not _LONG_RE.match(text):
        raise errors.bad_param(name, LONG_PATTERN)
    v = int(text)
    if v < lo or v > hi:
        raise errors.bad_param(name, f"{lo}-{hi}")
    return v


def long_param(params: Mapping[str, str], name: str, default: int | None = None, lo: int = -INT64_MAX - 1,
               hi: int = INT64_MAX) -> int | None:
    """``params[name]`` as a LONG (``default`` when absent or empty)."""
    v = params.get(name)
    if v is None or v == "":
        return default
    return long_value(v, name, lo, hi)


def decimal_value(text: str, name: str, signed: bool = False) -> Decimal:
    """A DECIMAL as Binance writes it: at most 20 digits before and after the point, no exponent."""
    if not isinstance(text, str) or not (_SIGNED_DEC_RE if signed else _DEC_RE).match(text):
        raise errors.bad_param(name, DEC_PATTERN)
    return Decimal(text)


def decimal_param(params: Mapping[str, str], name: str) -> Decimal | None:
    v = params.get(name)
    if v is None or v == "":
        return None
    return decimal_value(v, name)


def recv_window(text: str) -> float:
    """``recvWindow`` in milliseconds (up to three decimals, as Binance allows), at most 60000."""
    if not isinstance(text, str) or not _RECV_RE.match(text):
        raise errors.bad_param("recvWindow", "^[0-9]{1,5}(\\.[0-9]{1,3})?$")
    return float(text)


def json_number_text(v: object) -> str:
    """A WS API / control JSON value as the text a REST client would have sent (no exponent for floats)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            return "nan"
        text = format(Decimal(repr(v)), "f")
        return text[:-2] if text.endswith(".0") else text
    return str(v)
