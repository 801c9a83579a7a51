"""The securities dict a strategy sees as ``self.securities`` (and the portfolio indexes)."""

from __future__ import annotations

from typing import Any

from leand.model import Symbol


class SecurityManager(dict):
    """The securities dict, also indexable by ticker string (``securities["SPY"]``) as in LEAN.

    A plain dict for Symbol keys (the engine's per-event lookups stay C-speed); a missing key that is a
    ticker is looked up by value."""

    def __missing__(self, key: Any):
        if isinstance(key, str):
            text = key.upper()
            for sym, sec in self.items():
                if sym.value == text:
                    return sec
        sym = getattr(key, "symbol", None)  # a Security where a Symbol is expected
        if isinstance(sym, Symbol) and sym in self:
            return dict.__getitem__(self, sym)
        raise KeyError(key)

    def contains_key(self, key: Any) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True
