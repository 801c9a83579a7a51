"""The paper venue: an exchange account that lives apart from the daemon, like a real venue would.

Orders, fills and balances are kept in the venue's own SQLite store and committed before any report leaves the
venue, so a daemon crash loses nothing here and a restarted daemon can ask what really happened (``reconcile``,
``order_by_client_id``). A client order id is accepted once only: a resent order is rejected as a duplicate.

Matching is against the top of book the venue is fed (``on_quote``): market orders take the current ask/bid,
limit orders rest until the opposite side reaches their price and then fill at the limit. Fees are a percent of
notional (maker for resting fills, taker otherwise).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from leand.model import (
    CANCEL_REJECTED,
    ExecReport,
    Instrument,
    OrderStatus,
    QuoteTick,
    ReportKind,
    Symbol,
    VenueOrder,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    client_order_id TEXT PRIMARY KEY, venue_order_id INTEGER UNIQUE, symbol TEXT, quantity REAL, type TEXT,
    limit_price REAL, status TEXT, filled REAL DEFAULT 0, created_ns INTEGER, updated_ns INTEGER);
CREATE TABLE IF NOT EXISTS fills (
    fill_id INTEGER PRIMARY KEY AUTOINCREMENT, client_order_id TEXT, symbol TEXT, quantity REAL, price REAL,
    fee REAL, fee_currency TEXT, liquidity TEXT, time_ns INTEGER);
CREATE TABLE IF NOT EXISTS balances (asset TEXT PRIMARY KEY, amount REAL);
CREATE TABLE IF NOT EXISTS submissions (client_order_id TEXT, time_ns INTEGER);
CREATE INDEX IF NOT EXISTS orders_open ON orders (symbol, status);
"""


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """All or nothing: in autocommit mode ``with db:`` alone commits each statement on its own, so a crash
    between a fill's insert and its balance update would leave the account inconsistent."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class PaperVenue:
    def __init__(self, store: Path | None, instruments: dict[Symbol, Instrument], *,
                 starting_balances: dict[str, float] | None = None, maker_fee: float = 0.0,
                 taker_fee: float = 0.001) -> None:
        self.instruments = instruments
        self._by_id = {s.id: i for s, i in instruments.items()}
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        if store is not None:
            store.parent.mkdir(parents=True, exist_ok=True)
        # None: an in-memory account (replays and what-ifs), same matching
        self.db = sqlite3.connect(store if store is not None else ":memory:", isolation_level=None,
                                  check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        if not self.db.execute("SELECT 1 FROM balances LIMIT 1").fetchone():
            with _transaction(self.db):
                self.db.executemany("INSERT INTO balances VALUES (?, ?)",
                                    list((starting_balances or {"USD": 100_000.0}).items()))
        self.bid: dict[str, float] = {}
        self.ask: dict[str, float] = {}
        row = self.db.execute("SELECT COALESCE(MAX(venue_order_id), 0) FROM orders").fetchone()
        self._next_id = row[0] + 1
        #: the store's open orders by symbol, in venue order id order: client order id -> [quantity, limit,
        #: filled]. A copy kept with every write, so a quote is matched without a query (the store stays the
        #: record and is still written before any report leaves)
        self._open: dict[str, dict[str, list]] = {}
        for cid, sid, qty, limit, filled in self.db.execute(
                "SELECT client_order_id, symbol, quantity, limit_price, filled FROM orders WHERE status IN "
                "('accepted','partially_filled') ORDER BY venue_order_id"):
            self._open.setdefault(sid, {})[cid] = [qty, limit, filled]

    # -- market data ----------------------------------------------------------------------------
    def on_quote(self, q: QuoteTick) -> list[ExecReport]:
        sid = q.symbol.id
        if q.bid_price:
            self.bid[sid] = q.bid_price
        if q.ask_price:
            self.ask[sid] = q.ask_price
        opens = self._open.get(sid)
        if not opens:
            return []
        reports = []
        for cid, (qty, limit, filled) in list(opens.items()):
            rem = qty - filled
            if (rem > 0 and self.ask.get(sid, 0) and self.ask[sid] <= limit) or (rem < 0 and self.bid.get(sid, 0) and self.bid[sid] >= limit):
                reports.append(self._fill(cid, sid, rem, limit, "maker", q.time))
        return [r for r in reports if r is not None]

    # -- orders -----------------------------------------------------------------------------------
    def submit(self, client_order_id: str, symbol: Symbol, quantity: float, type_: str,
               limit_price: float | None, now_ns: int) -> list[ExecReport]:
        sid = symbol.id
        with _transaction(self.db):
            self.db.execute("INSERT INTO submissions VALUES (?, ?)", (client_order_id, now_ns))
        if self.db.execute("SELECT 1 FROM orders WHERE client_order_id=?", (client_order_id,)).fetchone():
            return [ExecReport(client_order_id=client_order_id, status=OrderStatus.REJECTED, symbol=sid, time_ns=now_ns,
                               reason="DUPLICATE_CLIENT_ORDER_ID")]
        if sid not in self._by_id:
            return [ExecReport(client_order_id=client_order_id, status=OrderStatus.REJECTED, symbol=sid, time_ns=now_ns,
                               reason=f"UNKNOWN_SYMBOL {sid}")]
        if type_ not in ("market", "limit"):
            return [ExecReport(client_order_id=client_order_id, status=OrderStatus.REJECTED, symbol=sid, time_ns=now_ns,
                               reason=f"UNSUPPORTED_ORDER_TYPE {type_}")]
        px = self.ask.get(sid) if quantity > 0 else self.bid.get(sid)
        if type_ == "market" and not px:
            return [ExecReport(client_order_id=client_order_id, status=OrderStatus.REJECTED, symbol=sid, time_ns=now_ns,
                               reason="NO_MARKET")]
        vid = self._next_id
        self._next_id += 1
        with _transaction(self.db):
            self.db.execute("INSERT INTO orders VALUES (?,?,?,?,?,?,?,0,?,?)",
                            (client_order_id, vid, sid, quantity, type_, limit_price, "accepted", now_ns, now_ns))
        self._open.setdefault(sid, {})[client_order_id] = [quantity, limit_price, 0.0]
        out = [ExecReport(client_order_id=client_order_id, status=OrderStatus.ACCEPTED, symbol=sid, time_ns=now_ns,
                          venue_order_id=vid)]
        if px and (type_ == "market" or (limit_price is not None and (
                (quantity > 0 and px <= limit_price) or (quantity < 0 and px >= limit_price)))):
            r = self._fill(client_order_id, sid, quantity, px, "taker", now_ns)
            if r is not None:
                out.append(r)
        return out

    def cancel(self, client_order_id: str, now_ns: int) -> ExecReport:
        row = self.db.execute("SELECT symbol, status FROM orders WHERE client_order_id=?",
                              (client_order_id,)).fetchone()
        if row is None or row[1] not in ("accepted", "partially_filled"):
            # the order stays as it is (filled, canceled...): only the cancel request is refused
            return ExecReport(client_order_id=client_order_id, kind=ReportKind.CANCEL_REJECTED,
                              status=OrderStatus(row[1]) if row else OrderStatus.REJECTED,
                              symbol=row[0] if row else "", time_ns=now_ns, reason=f"{CANCEL_REJECTED} " + (
                                  "UNKNOWN_ORDER" if row is None else f"ORDER_{row[1].upper()}"))
        with _transaction(self.db):
            self.db.execute("UPDATE orders SET status='canceled', updated_ns=? WHERE client_order_id=?",
                            (now_ns, client_order_id))
        self._open.get(row[0], {}).pop(client_order_id, None)
        return ExecReport(client_order_id=client_order_id, status=OrderStatus.CANCELED, symbol=row[0],
                          time_ns=now_ns)

    def modify(self, client_order_id: str, quantity: float | None, limit_price: float | None,
               now_ns: int) -> list[ExecReport]:
        """Change a resting order's quantity and/or limit price in place; it may then fill at once."""
        row = self.db.execute("SELECT symbol, status, quantity, filled, type, limit_price FROM orders WHERE "
                              "client_order_id=?", (client_order_id,)).fetchone()

        def refuse(reason: str, status: OrderStatus) -> list[ExecReport]:
            return [ExecReport(client_order_id=client_order_id, kind=ReportKind.UPDATE_REJECTED, status=status,
                               symbol=row[0] if row else "", time_ns=now_ns, reason=reason)]

        if row is None:
            return refuse("UNKNOWN_ORDER", OrderStatus.REJECTED)
        sid, status, qty, filled, type_, limit = row
        if status not in ("accepted", "partially_filled"):
            return refuse(f"ORDER_{status.upper()}", OrderStatus(status))
        new_qty = qty if quantity is None else quantity
        if (new_qty > 0) != (qty > 0) or abs(new_qty) < abs(filled) - 1e-12:
            return refuse(f"INVALID_QUANTITY {new_qty:g} (filled {filled:g})", OrderStatus(status))
        if limit_price is not None and type_ != "limit":
            return refuse("LIMIT_PRICE_ON_MARKET_ORDER", OrderStatus(status))
        new_limit = limit if limit_price is None else limit_price
        done = abs(new_qty - filled) < 1e-12
        with _transaction(self.db):
            self.db.execute("UPDATE orders SET quantity=?, limit_price=?, status=?, updated_ns=? WHERE "
                            "client_order_id=?", (new_qty, new_limit, "filled" if done else status, now_ns,
                                                  client_order_id))
        if done:
            self._open.get(sid, {}).pop(client_order_id, None)
        else:
            self._open.setdefault(sid, {})[client_order_id] = [new_qty, new_limit, filled]
        out = [ExecReport(client_order_id=client_order_id, kind=ReportKind.UPDATE_ACCEPTED,
                          status=OrderStatus.FILLED if done else OrderStatus(status), symbol=sid, time_ns=now_ns,
                          quantity=new_qty, limit_price=new_limit)]
        rem = new_qty - filled
        px = self.ask.get(sid) if rem > 0 else self.bid.get(sid)
        if not done and px and ((rem > 0 and px <= new_limit) or (rem < 0 and px >= new_limit)):
            r = self._fill(client_order_id, sid, rem, px, "taker", now_ns)
            if r is not None:
                out.append(r)
        return out

    def _fill(self, cid: str, sid: str, qty: float, price: float, liquidity: str, now_ns: int) -> ExecReport | None:
        inst = self._by_id[sid]
        base, quote = inst.base_currency, inst.quote_currency
        fee = abs(qty) * price * (self.maker_fee if liquidity == "maker" else self.taker_fee)
        bal = dict(self.db.execute("SELECT asset, amount FROM balances").fetchall())
        if qty > 0 and bal.get(quote, 0.0) < qty * price + fee - 1e-9:
            return self._reject_open(cid, sid, now_ns, f"INSUFFICIENT_{quote}")
        if qty < 0 and base and bal.get(base, 0.0) < -qty - 1e-12:
            return self._reject_open(cid, sid, now_ns, f"INSUFFICIENT_{base}")
        with _transaction(self.db):
            self.db.execute("UPDATE orders SET filled = filled + ?, status = CASE WHEN abs(quantity - filled - ?) < 1e-12 "
                            "THEN 'filled' ELSE 'partially_filled' END, updated_ns=? WHERE client_order_id=?",
                            (qty, qty, now_ns, cid))
            cur = self.db.execute("INSERT INTO fills (client_order_id, symbol, quantity, price, fee, fee_currency, "
                                  "liquidity, time_ns) VALUES (?,?,?,?,?,?,?,?)",
                                  (cid, sid, qty, price, fee, quote, liquidity, now_ns))
            self.db.execute("INSERT INTO balances VALUES (?, ?) ON CONFLICT(asset) DO UPDATE SET amount = amount + ?",
                            (quote, -qty * price - fee, -qty * price - fee))
            if base:
                self.db.execute("INSERT INTO balances VALUES (?, ?) ON CONFLICT(asset) DO UPDATE SET "
                                "amount = amount + ?", (base, qty, qty))
        status = self.db.execute("SELECT status FROM orders WHERE client_order_id=?", (cid,)).fetchone()[0]
        if status == "partially_filled":
            self._open[sid][cid][2] += qty
        else:
            self._open[sid].pop(cid, None)
        return ExecReport(client_order_id=cid, status=OrderStatus(status), symbol=sid, time_ns=now_ns,
                          fill_id=cur.lastrowid or 0,
                          fill_quantity=qty, fill_price=price, fee=fee, fee_currency=quote, liquidity=liquidity)

    def _reject_open(self, cid: str, sid: str, now_ns: int, reason: str) -> ExecReport:
        with _transaction(self.db):
            self.db.execute("UPDATE orders SET status='rejected', updated_ns=? WHERE client_order_id=?", (now_ns, cid))
        self._open.get(sid, {}).pop(cid, None)
        return ExecReport(client_order_id=cid, status=OrderStatus.REJECTED, symbol=sid, time_ns=now_ns, reason=reason)

    # -- what a reconnecting client asks ---------------------------------------------------------
    def order_by_client_id(self, cid: str) -> VenueOrder | None:
        row = self.db.execute("SELECT client_order_id, venue_order_id, symbol, quantity, type, limit_price, status, "
                              "filled FROM orders WHERE client_order_id=?", (cid,)).fetchone()
        return None if row is None else VenueOrder(client_order_id=row[0], venue_order_id=row[1], symbol=row[2],
                                                   quantity=row[3], type=row[4], limit_price=row[5],
                                                   status=OrderStatus(row[6]),
                                                   filled=row[7])

    def open_orders(self) -> list[VenueOrder]:
        rows = self.db.execute("SELECT client_order_id FROM orders WHERE status IN ('accepted','partially_filled') "
                               "ORDER BY venue_order_id").fetchall()
        return [o for r in rows if (o := self.order_by_client_id(r[0])) is not None]

    def fills_since(self, fill_id: int) -> list[ExecReport]:
        rows = self.db.execute("SELECT f.fill_id, f.client_order_id, f.symbol, f.quantity, f.price, f.fee, "
                               "f.fee_currency, f.liquidity, f.time_ns, o.status FROM fills f JOIN orders o USING "
                               "(client_order_id) WHERE f.fill_id > ? ORDER BY f.fill_id", (fill_id,)).fetchall()
        return [ExecReport(client_order_id=r[1], status=OrderStatus(r[9]), symbol=r[2], time_ns=r[8], fill_id=r[0],
                           fill_quantity=r[3], fill_price=r[4], fee=r[5], fee_currency=r[6], liquidity=r[7])
                for r in rows]

    def balances(self) -> dict[str, float]:
        return dict(self.db.execute("SELECT asset, amount FROM balances ORDER BY asset").fetchall())

    def submission_counts(self) -> dict[str, int]:
        """How many times each client order id was sent (a crash test asserts 1)."""
        return dict(self.db.execute("SELECT client_order_id, COUNT(*) FROM submissions GROUP BY client_order_id"))

    def close(self) -> None:
        self.db.close()
