"""Reconciliation paths, deterministically: a fill the journal missed, an intent that never left, a status
that changed while the daemon was down, and duplicate client order ids refused by the venue."""

from __future__ import annotations

from pathlib import Path

from leand.adapters.paper.execution import PaperExecutionClient
from leand.live.journal import Journal
from leand.live.reports import apply_view, persist_report
from leand.model import Instrument, QuoteTick, Symbol
from leand.simulator.paper import PaperVenue

BTC = Symbol.crypto("BTCUSD")
INST = {BTC: Instrument(BTC, quote_currency="USD", base_currency="BTC", lot_size=1e-8)}


def setup(tmp: Path):
    v = PaperVenue(tmp / "venue.sqlite", INST, starting_balances={"USD": 10_000.0})
    v.on_quote(QuoteTick(BTC, 1, 100.0, 1, 101.0, 1))
    j = Journal(tmp / "journal.sqlite")
    j.next_boot()
    return v, j, PaperExecutionClient(v, j)


def reconcile(j: Journal, client: PaperExecutionClient) -> list[dict]:
    """What the daemon does at start: the venue's view applied to the journal."""
    return apply_view(j, client.reconcile())


def test_crash_after_the_venue_filled_but_before_the_journal_knew(tmp_path: Path) -> None:
    v, j, s = setup(tmp_path)
    j.intent("s-1-1", "s", BTC, 1.0, "market", None, None, "gtc", "", 10, 1)
    v.submit("s-1-1", BTC, 1.0, "market", None, 11)  # the daemon "dies" before persisting anything else
    mism = reconcile(j, s)
    kinds = sorted(m["kind"] for m in mism)
    assert kinds == ["fill_recovered"]  # the recovered fill carries the venue's status onto the intent
    assert j.intents()[0]["status"] == "filled"
    assert j.fills()[0].quantity == 1.0 and j.fills()[0].price == 101.0
    assert j.open_intents() == []
    assert reconcile(j, s) == []  # idempotent


def test_crash_between_intent_and_send_never_resends(tmp_path: Path) -> None:
    v, j, s = setup(tmp_path)
    j.intent("s-1-2", "s", BTC, 1.0, "limit", 90.0, None, "gtc", "", 10, 1)
    mism = reconcile(j, s)
    assert mism == [{"kind": "intent_not_sent", "client_order_id": "s-1-2"}]
    assert j.intents()[0]["status"] == "rejected"  # typed: closed as never sent, with the reason in its event
    assert j.conn.execute("SELECT code FROM events WHERE client_order_id='s-1-2'").fetchall() == [
        ("RECOVERED_UNSENT",)]
    assert v.submission_counts() == {}


def test_resting_order_filled_while_down(tmp_path: Path) -> None:
    v, j, s = setup(tmp_path)
    j.intent("s-1-3", "s", BTC, 1.0, "limit", 99.0, None, "gtc", "", 10, 1)
    for r in v.submit("s-1-3", BTC, 1.0, "limit", 99.0, 11):
        persist_report(j, r)
    j.set_status("s-1-3", "accepted", 11)
    v.on_quote(QuoteTick(BTC, 12, 98.0, 1, 98.5, 1))  # fills while the daemon is away
    mism = reconcile(j, s)
    assert {m["kind"] for m in mism} == {"fill_recovered"}
    assert j.intents()[0]["status"] == "filled" and j.intents()[0]["filled"] == 1.0


def test_venue_refuses_a_resent_client_order_id(tmp_path: Path) -> None:
    v, _, _ = setup(tmp_path)
    v.submit("s-1-4", BTC, 1.0, "market", None, 1)
    (r,) = v.submit("s-1-4", BTC, 1.0, "market", None, 2)
    assert r.status == "rejected" and r.reason == "DUPLICATE_CLIENT_ORDER_ID"
    assert v.balances()["BTC"] == 1.0


def test_paper_venue_restarted_still_fills_and_cancels_its_open_orders(tmp_path: Path) -> None:
    """Quotes are matched against an in-memory copy of the open orders: a venue opened again on its store
    must know the orders left open, and a canceled or filled one must not fill (again)."""
    v, _, _ = setup(tmp_path)
    v.submit("s-1-5", BTC, 1.0, "limit", 99.0, 2)
    v.submit("s-1-6", BTC, 1.0, "limit", 98.0, 3)
    v.submit("s-1-7", BTC, 1.0, "limit", 97.0, 4)
    assert v.cancel("s-1-6", 5).status == "canceled"
    v.close()
    v2 = PaperVenue(tmp_path / "venue.sqlite", INST)
    filled = v2.on_quote(QuoteTick(BTC, 6, 95.0, 1, 96.0, 1))
    assert [(r.client_order_id, r.status, r.fill_price) for r in filled] == [("s-1-5", "filled", 99.0),
                                                                            ("s-1-7", "filled", 97.0)]
    assert v2.on_quote(QuoteTick(BTC, 7, 95.0, 1, 96.0, 1)) == []


def test_a_fill_journaled_after_a_later_one_is_recovered(tmp_path: Path) -> None:
    """The venue has fills 1, 2 and 3; the journal got 1 and 3 (3 was journaled before 2, then the daemon died):
    the restart recovers 2, which is below the journal's highest fill id."""
    v, j, s = setup(tmp_path)
    reps = []
    for n, px in ((1, 99.0), (2, 98.0), (3, 97.0)):
        cid = f"s-1-{n}"
        j.intent(cid, "s", BTC, 1.0, "limit", px, None, "gtc", "", 10, 1)
        reps += [r for r in v.submit(cid, BTC, 1.0, "limit", px, 11) if not r.fill_quantity]
    reps += v.on_quote(QuoteTick(BTC, 12, 95.0, 3, 96.0, 3))  # all three fill on one quote: ids 1, 2, 3
    fills = {r.fill_id: r for r in reps if r.fill_quantity}
    assert sorted(fills) == [1, 2, 3]
    for r in reps:
        if not r.fill_quantity:
            persist_report(j, r)
    persist_report(j, fills[1])
    persist_report(j, fills[3])  # out of id order: 2 never made it
    assert j.last_fill_id() == 3 and j.fills_complete_through() == 1
    mism = reconcile(j, s)
    assert [(m["kind"], m["fill_id"]) for m in mism] == [("fill_recovered", 2)]
    assert sorted(j.fill_ids()) == [1, 2, 3] and j.fills_complete_through() == 3
    assert reconcile(j, s) == []  # idempotent


def test_fills_complete_through_each_venues_range(tmp_path: Path) -> None:
    from leand.live.venues import FILL_ID_SPAN, VenueStore

    j = Journal(tmp_path / "journal.sqlite")
    for fid in (1, 2, 4, FILL_ID_SPAN + 2, FILL_ID_SPAN + 1, FILL_ID_SPAN + 3):
        j.fill(fid, "x", "BTCUSD", 1.0, 1.0, 0.0, "USD", "taker", 1, "filled")
    assert j.fills_complete_through() == 2
    first, second = VenueStore(j, [], 0), VenueStore(j, [], 1)
    assert first.fills_complete_through() == 2 and second.fills_complete_through() == 3
    assert VenueStore(j, [], 2).fills_complete_through() == 0
    j.fill(3, "x", "BTCUSD", 1.0, 1.0, 0.0, "USD", "taker", 1, "filled")
    assert first.fills_complete_through() == 4  # from the end it found before, which is kept
    j.close()
    assert Journal(tmp_path / "journal.sqlite").get("fills_complete:0") == "4"


def test_brackets_that_are_done_are_pruned(tmp_path: Path) -> None:
    """Armed, or its entry ended with nothing filled: the row goes. Waiting for an open entry, or for one that
    ended part-filled (a restart arms its exits for what filled): it stays."""
    j = Journal(tmp_path / "journal.sqlite")
    for n, status, filled in ((1, "accepted", 0.0), (2, "canceled", 0.0), (3, "canceled", 0.4), (4, "filled", 1.0),
                              (5, "rejected", 0.0), (6, "accepted", 0.0)):
        cid = f"s-1-{n}"
        j.intent(cid, "s", BTC, 1.0, "limit", 99.0, None, "gtc", "br", 10, 1)
        j.set_status(cid, "accepted", 11)
        if filled:
            j.fill(n, cid, BTC.id, filled, 99.0, 0.0, "USD", "maker", 12, "partially_filled")
        j.set_status(cid, status, 13)
        j.bracket(cid, 110.0, 90.0, "br")
    j.bracket_armed("s-1-4")
    j.bracket_armed("s-1-6")  # armed: its exits are orders of their own, whatever the entry does now
    assert j.prune_brackets() == 4
    assert sorted(w["client_order_id"] for w in j.waiting_brackets()) == ["s-1-1", "s-1-3"]
    assert j.prune_brackets() == 0
