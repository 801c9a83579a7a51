"""What ends while the daemon is down is ended at restart, with the order events a running daemon would give:
a DAY order (resting at the venue) and a GTD stop (held by leand's emulation) whose time ran out expire at the
first step after the restart; a bracket whose take-profit filled at the venue while leand was down has its
stop-loss canceled instead of left armed alone (it would otherwise sell the position a second time). The live
stack runs on a real SQLite journal and paper venue, on a virtual clock, through the daemon's own restart
functions (adopt, rearm_emulated, relink)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from test_order_types_live import BTC, Stack

from leand.live.daemon import Daemon
from leand.live.reports import apply_view
from leand.model import OrderStatus, QuoteTick, TimeInForce

S = OrderStatus
HOUR = 3600 * 1_000_000_000


def restart(tmp: Path, boot: int, hours_down: float) -> tuple[Stack, list]:
    """A new boot after ``hours_down`` hours: reconcile, adopt what the venue holds, re-arm and re-link."""
    again = Stack(tmp, boot=boot, offset_ns=int(hours_down * HOUR))
    view = again.client.reconcile()
    apply_view(again.journal, view)
    intents = {i["client_order_id"]: i for i in again.journal.intents()}
    adopted = []
    for vo in view.open_orders:
        o = Daemon.adopt(again.engine, vo, intents[vo.client_order_id], "s")
        again.session.routes[o.client_order_id] = ("s", o)
        adopted.append(o)
    adopted += Daemon.rearm_emulated(again.journal, again.engine, again.session, "s")
    Daemon.relink(again.journal, again.engine)
    again.pump()
    return again, adopted


def test_day_and_gtd_orders_that_expired_while_down_expire_at_restart(tmp_path: Path) -> None:
    st = Stack(tmp_path)
    s = st.strategy
    day = s.limit_order(BTC, 1.0, 90.0, time_in_force=TimeInForce.DAY, tag="day")
    today = datetime.fromtimestamp(st.t / 1e9, UTC).date()
    gtd = s.stop_market_order(BTC, -1.0, 80.0, tag="gtd", expire=today)  # held by the emulation until today ends
    gtc = s.limit_order(BTC, 1.0, 91.0, tag="gtc")
    st.pump()
    assert (day.status, gtd.status, gtc.status) == (S.ACCEPTED, S.ACCEPTED, S.ACCEPTED)
    cids = {o.order.client_order_id: o.order.tag for o in (day, gtd, gtc)}
    st.journal.close()
    st.venue.close()  # the daemon dies; it comes back after midnight UTC
    again, adopted = restart(tmp_path, 2, hours_down=30)
    assert sorted(o.tag for o in adopted) == ["day", "gtc", "gtd"]
    assert {o.client_order_id for o in adopted} == set(cids)
    gtd_order = next(o for o in adopted if o.tag == "gtd")
    assert gtd_order.time_in_force is TimeInForce.GTD and gtd_order.expire_time is not None  # from the journal
    again.quote(100.0)  # the first step after the restart
    by_tag = {o.tag: o for o in adopted}
    assert by_tag["day"].status is S.EXPIRED and by_tag["gtd"].status is S.EXPIRED
    assert by_tag["gtc"].status is S.ACCEPTED
    seen = [(e.order_id, e.status) for e in again.strategy.events]
    assert (by_tag["day"].id, S.EXPIRED) in seen and (by_tag["gtd"].id, S.EXPIRED) in seen
    statuses = {i["client_order_id"]: i["status"] for i in again.journal.intents()}
    # the journal keeps what the venue said: it canceled the DAY order at leand's request (the expiry is leand's)
    assert {cids[c]: statuses[c] for c in cids} == {"day": "canceled", "gtd": "expired", "gtc": "accepted"}
    assert again.venue.order_by_client_id(by_tag["day"].client_order_id).status != "open"
    again.quote(79.0)  # below the expired stop: nothing is sent for it
    assert by_tag["gtd"].client_order_id not in again.venue.submission_counts()


def test_orders_whose_time_has_not_run_out_keep_working_after_a_restart(tmp_path: Path) -> None:
    st = Stack(tmp_path)
    day = st.strategy.limit_order(BTC, 1.0, 90.0, time_in_force=TimeInForce.DAY, tag="day")
    st.pump()
    assert day.status is S.ACCEPTED
    st.journal.close()
    st.venue.close()
    again, adopted = restart(tmp_path, 2, hours_down=0.01)  # down for 36 s, the same day
    again.quote(100.0)
    assert [o.status for o in adopted] == [S.ACCEPTED]


def test_a_bracket_whose_take_profit_filled_while_down_cancels_its_stop_loss_at_restart(tmp_path: Path) -> None:
    st = Stack(tmp_path)
    b = st.strategy.bracket_order(BTC, 1.0, take_profit=104.0, stop_loss=97.0, tag="br")
    st.pump()
    st.pump()
    assert b.entry.status is S.FILLED
    assert b.take_profit.status is S.ACCEPTED and b.stop_loss.status is S.ACCEPTED  # limit at venue, stop held
    tp_cid, sl_cid = b.take_profit.order.client_order_id, b.stop_loss.order.client_order_id
    st.t += 1_000_000
    st.client.on_quote(QuoteTick(BTC, st.t, 104.5, 5.0, 104.6, 5.0))  # the venue fills the take-profit ...
    st.journal.close()  # ... and the daemon dies before it hears of it
    st.venue.close()
    again, adopted = restart(tmp_path, 2, hours_down=0.01)
    statuses = {i["client_order_id"]: i["status"] for i in again.journal.intents()}
    assert statuses[tp_cid] == "filled"  # reconciled from the venue
    sl = next(o for o in adopted if o.client_order_id == sl_cid)
    again.quote(100.0)
    assert sl.status is S.CANCELED
    assert any(e.order_id == sl.id and e.status is S.CANCELED for e in again.strategy.events)
    assert statuses.get(sl_cid) in ("accepted", "canceled")
    assert {i["client_order_id"]: i["status"] for i in again.journal.intents()}[sl_cid] == "canceled"
    again.quote(96.0)  # through the old stop: it does not fire a second exit
    again.quote(95.0)
    assert sl_cid not in again.venue.submission_counts()  # one exit only: the position is not sold twice
