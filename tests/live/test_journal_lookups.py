"""The journal's lookups by id that a venue snapshot uses instead of reading its whole history: the same answer
as filtering the whole history, through a venue's slice of the journal too, past one ``IN (...)`` chunk."""

from __future__ import annotations

from pathlib import Path

from leand.live.journal import Journal
from leand.live.venues import FILL_ID_SPAN, VenueStore
from leand.model import OrderStatus, Symbol

BTC = Symbol.crypto("BTCUSDT", "binance")
ETH = Symbol.crypto("ETHUSDT", "binance")


def test_lookups_agree_with_the_whole_history(tmp_path: Path) -> None:
    j = Journal(tmp_path / "journal.sqlite")
    for k in range(1200):
        sym = BTC if k % 2 else ETH
        j.intent(f"c-{k}", "t", sym, 0.001, "market", None, None, "gtc", "", 1000 + k, 1)
        if k % 3 == 0:  # slot 0's fills and slot 1's
            j.fill(k + (k % 2) * FILL_ID_SPAN, f"c-{k}", sym.id, 0.001, 1.0, 0.0, "USDT", "taker", k,
                   OrderStatus.FILLED)
    asked = [f"c-{k}" for k in range(0, 2400, 2)]
    assert j.intents_of(asked) == {i["client_order_id"]: i for i in j.intents() if i["client_order_id"] in asked}
    ids = list(range(0, 3000)) + [FILL_ID_SPAN + k for k in range(3000)]
    assert j.journaled_fills(ids) == j.fill_ids() & set(ids)
    assert j.first_intent_ns(BTC.id) == 1001 and j.first_intent_ns(ETH.id) == 1000
    assert j.first_intent_ns("XRPUSDT.binance") is None
    v = VenueStore(j, [BTC.id], 1)
    assert v.journaled_fills(range(3000)) == v.fill_ids() == {k for k in range(1200) if k % 6 == 3}
    assert v.intents_of([*asked, "c-1"]) == {"c-1": j.intents_of(["c-1"])["c-1"]}
    assert v.first_intent_ns(BTC.id) == 1001 and v.first_intent_ns(ETH.id) is None
    j.close()
