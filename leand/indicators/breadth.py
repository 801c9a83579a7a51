"""Market-breadth indicators over several symbols: LEAN's Arms index (TRIN)."""

from __future__ import annotations

from typing import Any

from leand.indicators.base import Indicator


class ArmsIndex(Indicator):
    """TRIN = (advancing issues / declining issues) / (advancing volume / declining volume), over ``symbols``.

    Fed bars of every symbol (``update_bar``); a symbol advances when its close is above its previous close.
    A value is made at each time every symbol has reported a bar for, so the first needs two bars of each."""

    __slots__ = ("_bars", "_prev", "symbols")

    def __init__(self, symbols: list[Any], name: str | None = None) -> None:
        super().__init__(name or "TRIN", 1)
        self.symbols = list(symbols)
        self._prev: dict[Any, float] = {}
        self._bars: dict[Any, Any] = {}

    def add_stock(self, symbol: Any) -> None:
        if symbol not in self.symbols:
            self.symbols.append(symbol)

    def remove_stock(self, symbol: Any) -> None:
        if symbol in self.symbols:
            self.symbols.remove(symbol)
        self._prev.pop(symbol, None)
        self._bars.pop(symbol, None)

    def update_bar(self, bar: Any) -> bool:
        sym = bar.symbol
        if sym not in self.symbols:
            return self.is_ready
        if self._bars and next(iter(self._bars.values())).end_time != bar.end_time:
            self._bars.clear()  # a time some symbol missed: start over at this one
        self._bars[sym] = bar
        if len(self._bars) < len(self.symbols):
            return self.is_ready
        bars, self._bars = self._bars, {}
        have_prev = all(s in self._prev for s in bars)
        adv = dec = adv_vol = dec_vol = 0.0
        for s, b in bars.items():
            p = self._prev.get(s)
            if p is not None and b.close > p:
                adv += 1
                adv_vol += b.volume
            elif p is not None and b.close < p:
                dec += 1
                dec_vol += b.volume
            self._prev[s] = b.close
        if not have_prev:
            return self.is_ready
        v = 0.0
        if dec and adv_vol and dec_vol:
            v = (adv / dec) / (adv_vol / dec_vol)
        self.samples += 1
        return self._emit(bar.end_time, v)

    def update(self, time: int, value: float) -> bool:
        raise TypeError("ArmsIndex takes bars of its symbols (update_bar), not single values")

    def reset(self) -> None:
        super().reset()
        self._prev.clear()
        self._bars.clear()
