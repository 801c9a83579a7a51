"""The paper venue's two account keepers agree: a venue with no store (a replay's, in memory) gives the same
reports, fills, fill ids, balances and order views, step for step, as one on its SQLite store, whatever the
quotes, orders, updates and cancels. A replay is byte-identical to the stored venue because of this. And a
quote the account's orders cannot trade with, kept out of the book until it matters, changes nothing: the venue
reports as one that puts every quote in the book at once."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from leand.model import Instrument, QuoteTick, Symbol
from leand.simulator import paper
from leand.simulator.paper import PaperVenue
from leand.simulator.paper_account import MemoryAccount, SqliteAccount

BTC = Symbol.crypto("BTCUSD")
INST = {BTC: Instrument(BTC, quote_currency="USD", base_currency="BTC", tick_size=0.01, lot_size=0.001)}

step = st.one_of(
    st.tuples(st.just("quote"), st.integers(-30, 30), st.integers(1, 5), st.booleans(), st.booleans()),
    # a locked or crossed quote (bid at or above the ask), as a feed sends now and then
    st.tuples(st.just("locked"), st.integers(-3, 3), st.integers(-2, 0), st.integers(1, 5), st.integers(1, 5),
              st.just(1.0)),
    st.tuples(st.just("submit"), st.sampled_from(["market", "limit", "stop_market", "stop_limit", "trailing_stop"]),
              st.integers(-3, 3).filter(bool), st.integers(-20, 20), st.sampled_from(["gtc", "ioc", "fok"])),
    st.tuples(st.just("touch"), st.integers(-3, 3).filter(bool)),  # a limit joining the quote's own level
    st.tuples(st.just("cancel"), st.integers(0, 30)),
    st.tuples(st.just("modify"), st.integers(0, 30), st.integers(-3, 3), st.integers(-20, 20)),
)


class EveryQuoteInTheBook(PaperVenue):
    """The reference: every quote replaces the market's orders in the book as it comes."""

    lazy_quotes = False


def run(v: PaperVenue, steps: list) -> list:
    """Every report the venue gives for ``steps``, in order, then its account as a reconnecting client sees it."""
    out: list = []
    mid = 100.0
    t = 0
    n = 0
    for s in steps:
        t += 1_000
        if s[0] == "quote":
            mid = max(1.0, mid + s[1] * 0.01)
            out.append(v.on_quote(QuoteTick(BTC, t, round(mid - 0.01, 2) if s[3] else 0.0, float(s[2]),
                                            round(mid + 0.01, 2) if s[4] else 0.0, float(s[2]))))
        elif s[0] == "thin":  # a quote of a few lots a side, its spread moving: orders can take all of it
            _, dm, db, da, bs, as_ = s
            mid = max(1.0, mid + dm * 0.01)
            out.append(v.on_quote(QuoteTick(BTC, t, round(mid + db * 0.01, 2), bs * 0.001, round(mid + da * 0.01, 2),
                                            as_ * 0.001)))
        elif s[0] == "locked":  # the ask at or below the bid: taken as the feed gives it
            _, dm, spread, bs, as_, unit = s
            mid = max(1.0, mid + dm * 0.01)
            out.append(v.on_quote(QuoteTick(BTC, t, round(mid, 2), bs * unit, round(mid + spread * 0.01, 2),
                                            as_ * unit)))
        elif s[0] == "submit":
            _, type_, q, off, tif = s
            price = round(mid + off * 0.01, 2)
            out.append(v.submit(f"o{n}", BTC, q * 0.001, type_, price if "limit" in type_ else None, t,
                                stop_price=price if type_ in ("stop_market", "stop_limit") else None,
                                trailing_amount=0.05 if type_ == "trailing_stop" else None, time_in_force=tif))
            n += 1
        elif s[0] == "touch":
            q = s[1] * 0.001
            out.append(v.submit(f"o{n}", BTC, q, "limit", round(mid - 0.01, 2) if q > 0 else round(mid + 0.01, 2), t))
            n += 1
        elif s[0] == "cancel":
            out.append([v.cancel(f"o{s[1]}", t)])
        else:
            _, i, q, off = s
            out.append(v.modify(f"o{i}", q * 0.001 if q else None, round(mid + off * 0.01, 2) if off else None, t))
    out.append(v.balances())
    out.append(v.open_orders())
    out.append(v.fills_since(0))
    out.append(v.fills_since(2))
    out.append([v.order_by_client_id(f"o{i}") for i in range(n + 1)])
    out.append(v.submission_counts())
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(step, min_size=1, max_size=60), st.sampled_from([{"USD": 1e9, "BTC": 1e6}, {"USD": 1_000}]))
def test_memory_account_is_the_stored_one(steps: list, cash: dict[str, float]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stored = PaperVenue(Path(tmp) / "venue.sqlite", INST, starting_balances=cash, taker_fee=0.001,
                            maker_fee=0.0002)
        memory = PaperVenue(None, INST, starting_balances=cash, taker_fee=0.001, maker_fee=0.0002)
        assert isinstance(stored.account, SqliteAccount) and isinstance(memory.account, MemoryAccount)
        try:
            assert run(memory, steps) == run(stored, steps)
        finally:
            stored.close()


@settings(max_examples=150, deadline=None)
@given(st.lists(step, min_size=1, max_size=80), st.sampled_from([{"USD": 1e9, "BTC": 1e6}, {"USD": 1_000}]))
def test_quotes_kept_out_of_the_book_change_nothing(steps: list, cash: dict[str, float]) -> None:
    lazy = PaperVenue(None, INST, starting_balances=cash, taker_fee=0.001, maker_fee=0.0002)
    eager = EveryQuoteInTheBook(None, INST, starting_balances=cash, taker_fee=0.001, maker_fee=0.0002)
    assert run(lazy, steps) == run(eager, steps)


thin_step = st.one_of(
    st.tuples(st.just("thin"), st.integers(-3, 3), st.integers(-3, 0), st.integers(1, 3), st.integers(1, 4),
              st.integers(1, 4)),
    st.tuples(st.just("locked"), st.integers(-3, 3), st.integers(-2, 0), st.integers(1, 4), st.integers(1, 4),
              st.just(0.001)),
    st.tuples(st.just("submit"), st.sampled_from(["market", "limit", "limit", "stop_market", "stop_limit",
                                                  "trailing_stop"]),
              st.integers(-4, 4).filter(bool), st.integers(-3, 3), st.sampled_from(["gtc", "gtc", "ioc", "fok"])),
    st.tuples(st.just("touch"), st.integers(-3, 3).filter(bool)),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(st.just("modify"), st.integers(0, 20), st.integers(-3, 3), st.integers(-3, 3)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(thin_step, min_size=1, max_size=80), st.sampled_from([{"USD": 1e9, "BTC": 1e6}, {"USD": 1_000}]))
def test_the_market_kept_outside_the_book_trades_as_in_it(steps: list, cash: dict[str, float]) -> None:
    """Quotes of a few lots: the account's orders take all of the market's order, partly fill, rest behind it
    and meet it together with their own orders, so the venue that matches them against the market's orders
    kept outside the book (going the book's way only when it must) reports as the one with every quote in the
    book."""
    lazy = PaperVenue(None, INST, starting_balances=cash, taker_fee=0.001, maker_fee=0.0002)
    eager = EveryQuoteInTheBook(None, INST, starting_balances=cash, taker_fee=0.001, maker_fee=0.0002)
    assert run(lazy, steps) == run(eager, steps)


def test_a_quote_that_reaches_a_resting_order_at_its_price_fills_it() -> None:
    """The edge of keeping a quote out of the book: a bid exactly at the account's ask (or an ask at its bid)
    trades, as it would in the book."""
    for side in (1, -1):
        v = PaperVenue(None, INST, starting_balances={"USD": 1e6, "BTC": 10.0})
        v.on_quote(QuoteTick(BTC, 1, 99.0, 1.0, 101.0, 1.0))
        px = 100.0
        assert v.submit("r", BTC, -0.001 * side, "limit", px, 2)[0].status.value == "accepted"
        assert v.on_quote(QuoteTick(BTC, 3, 99.5, 1.0, 100.5, 1.0)) == []  # away from it: waits
        q = QuoteTick(BTC, 4, px, 1.0, 100.5, 1.0) if side > 0 else QuoteTick(BTC, 4, 99.5, 1.0, px, 1.0)
        fills = [r for r in v.on_quote(q) if r.fill_quantity]
        assert [(r.fill_quantity, r.fill_price) for r in fills] == [(-0.001 * side, px)]


class CheckedReaching(PaperVenue):
    """Checks ``_reaching`` (read from the book's touch) against every live order of the account in the book."""

    def _reaching(self, book, pend):  # type: ignore[no-untyped-def]
        got = super()._reaching(book, pend)
        assert all(o.owner == paper.ACCOUNT for o in book.orders.values())  # the market's orders are outside
        bids = [o.price for o in book.orders.values() if o.live and o.side > 0]
        asks = [o.price for o in book.orders.values() if o.live and o.side < 0]
        bid, ask = pend.get(1), pend.get(-1)
        by_bid = bool(bid and bid[0] and any(a <= bid[0] + 1e-9 for a in asks))
        by_ask = bool(ask and ask[0] and any(b >= ask[0] - 1e-9 for b in bids))
        assert got == (2 if by_bid and by_ask else 1 if by_bid else -1 if by_ask else 0), (got, pend, book.top())
        return got


@settings(max_examples=150, deadline=None)
@given(st.lists(step, min_size=1, max_size=80))
def test_reaching_read_from_the_touch_is_every_order_read(steps: list) -> None:
    v = CheckedReaching(None, INST, starting_balances={"USD": 1e9, "BTC": 1e6}, taker_fee=0.001, maker_fee=0.0002)
    plain = PaperVenue(None, INST, starting_balances={"USD": 1e9, "BTC": 1e6}, taker_fee=0.001, maker_fee=0.0002)
    assert run(v, steps) == run(plain, steps)


def test_a_quote_left_out_for_an_order_behind_it_still_trades_first() -> None:
    """A limit order joining the quote's own level rests behind the market's order there. The venue may put
    that quote in the book after the order (a newer quote on that side would go in behind it anyway), but
    whatever comes first still meets the market's order first: the account's market sell right after it
    (with or without a one-sided quote in between) trades with the quoted bid, not with its own bid (which
    self-trade prevention would cancel), as in the venue that puts every quote in at once."""
    for one_sided in (False, True):
        out = []
        for cls in (PaperVenue, EveryQuoteInTheBook):
            v = cls(None, INST, starting_balances={"USD": 1e6, "BTC": 10.0})
            v.on_quote(QuoteTick(BTC, 1, 99.0, 1.0, 101.0, 1.0))
            v.on_quote(QuoteTick(BTC, 2, 99.5, 1.0, 101.0, 1.0))  # the bid noted, not yet in the book
            assert v.submit("bid", BTC, 0.001, "limit", 99.5, 3)[0].status.value == "accepted"
            if one_sided:
                assert v.on_quote(QuoteTick(BTC, 4, 0.0, 0.0, 100.5, 1.0)) == []
            sell = v.submit("sell", BTC, -0.002, "market", None, 5)
            out.append(sell)
            assert [(r.fill_quantity, r.fill_price, r.liquidity) for r in sell if r.fill_quantity] == \
                [(-0.002, 99.5, "taker")]
            assert [o.client_order_id for o in v.open_orders()] == ["bid"]
        assert out[0] == out[1]


def test_a_locked_or_crossed_quote_is_taken_as_given() -> None:
    """A bid at or above the ask is the feed's: someone bids there and someone offers there. The market's two
    orders do not trade with each other nor cancel each other (self-trade prevention is for the account's own
    orders), so an account market order takes the quoted side, and a quote reaching a resting order fills it,
    in the venue that puts every quote in the book (it canceled the market's ask before) as in the lazy one."""
    out = []
    for cls in (PaperVenue, EveryQuoteInTheBook):
        v = cls(None, INST, starting_balances={"USD": 1e6, "BTC": 10.0})
        got = []
        v.on_quote(QuoteTick(BTC, 1, 100.0, 1.0, 100.0, 1.0))  # locked
        got.append(v.submit("buy", BTC, 0.002, "market", None, 2))
        v.on_quote(QuoteTick(BTC, 3, 100.02, 1.0, 100.0, 1.0))  # crossed
        got.append(v.submit("sell", BTC, -0.002, "market", None, 4))
        got.append(v.submit("buy2", BTC, 0.001, "market", None, 5))
        v.on_quote(QuoteTick(BTC, 6, 99.0, 1.0, 101.0, 1.0))
        assert v.submit("bid", BTC, 0.001, "limit", 99.99, 7)[0].status.value == "accepted"
        got.append(v.on_quote(QuoteTick(BTC, 8, 100.0, 1.0, 99.99, 1.0)))  # its ask reaches the account's bid
        fills = [(r.client_order_id, r.fill_quantity, r.fill_price) for rs in got for r in rs if r.fill_quantity]
        assert fills == [("buy", 0.002, 100.0), ("sell", -0.002, 100.02), ("buy2", 0.001, 100.0),
                         ("bid", 0.001, 99.99)], cls
        out.append(got)
    assert out[0] == out[1]
