"""Property tests of the paper venue on the L3 book: random quotes, orders of every type the book takes, updates
and cancels. Whatever the sequence, no order fills past its quantity, a closed order never reports again, the
account's balances are exactly the sum of its fills, and the store's view agrees with the reports."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from leand.model import Instrument, OrderStatus, QuoteTick, ReportKind, Symbol
from leand.simulator.paper import PaperVenue

BTC = Symbol.crypto("BTCUSD")
INST = {BTC: Instrument(BTC, quote_currency="USD", base_currency="BTC", tick_size=0.01, lot_size=0.001)}
OPEN = {OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED}

step = st.one_of(
    st.tuples(st.just("quote"), st.integers(-30, 30), st.integers(1, 5), st.booleans(), st.booleans()),
    st.tuples(st.just("submit"), st.sampled_from(["market", "limit", "stop_market", "stop_limit", "trailing_stop"]),
              st.integers(-3, 3).filter(bool), st.integers(-20, 20), st.sampled_from(["gtc", "ioc", "fok"])),
    st.tuples(st.just("cancel"), st.integers(0, 30)),
    st.tuples(st.just("modify"), st.integers(0, 30), st.integers(-3, 3), st.integers(-20, 20)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(step, min_size=1, max_size=60))
def test_paper_venue_invariants(steps: list) -> None:
    v = PaperVenue(None, INST, starting_balances={"USD": 1e9, "BTC": 1e6}, taker_fee=0.001, maker_fee=0.0)
    mid = 100.0
    t = 0
    qty: dict[str, float] = {}
    filled: dict[str, float] = {}
    closed: set[str] = set()
    usd, btc = 1e9, 1e6

    def take(reports) -> None:
        nonlocal usd, btc
        for r in reports:
            cid = r.client_order_id
            if r.kind is ReportKind.STATUS and cid in closed:
                raise AssertionError(f"{cid} reported {r.status} after it closed")
            if r.fill_quantity:
                filled[cid] = filled.get(cid, 0.0) + r.fill_quantity
                assert abs(filled[cid]) <= abs(qty[cid]) + 1e-9, (cid, filled[cid], qty[cid])
                assert (r.fill_quantity > 0) == (qty[cid] > 0)
                usd -= r.fill_quantity * r.fill_price + r.fee
                btc += r.fill_quantity
            if r.kind is ReportKind.UPDATE_ACCEPTED and r.quantity is not None:
                qty[cid] = r.quantity
            if r.kind is ReportKind.STATUS and r.status not in OPEN:
                closed.add(cid)

    n = 0
    for s in steps:
        t += 1_000
        if s[0] == "quote":
            mid = max(1.0, mid + s[1] * 0.01)
            take(v.on_quote(QuoteTick(BTC, t, round(mid - 0.01, 2) if s[3] else 0.0, float(s[2]),
                                      round(mid + 0.01, 2) if s[4] else 0.0, float(s[2]))))
        elif s[0] == "submit":
            _, type_, q, off, tif = s
            cid = f"o{n}"
            n += 1
            qty[cid] = q * 0.001
            price = round(mid + off * 0.01, 2)
            take(v.submit(cid, BTC, q * 0.001, type_, price if "limit" in type_ else None, t,
                          stop_price=price if type_ in ("stop_market", "stop_limit") else None,
                          trailing_amount=0.05 if type_ == "trailing_stop" else None, time_in_force=tif))
        elif s[0] == "cancel":
            take([v.cancel(f"o{s[1]}", t)])
        else:
            _, i, q, off = s
            cid = f"o{i}"
            if cid in qty and q and (q > 0) == (qty[cid] > 0):
                take(v.modify(cid, q * 0.001, None, t))
    bal = v.balances()
    assert abs(bal["USD"] - usd) < 1e-6 and abs(bal["BTC"] - btc) < 1e-9
    for cid, f in filled.items():
        vo = v.order_by_client_id(cid)
        assert vo is not None and abs(vo.filled - f) < 1e-9
        assert (vo.status in OPEN) == (cid not in closed)
    v.close()
