"""The paper venue's account: its orders, fills, balances and the client order ids it was sent.

Two keepers with one interface. :class:`SqliteAccount` is the live venue's: every change is committed before
the report that tells of it leaves the venue, so a daemon crash (``kill -9``) loses nothing and a restarted
daemon can ask what really happened. :class:`MemoryAccount` is for a venue that lives only as long as its run
(``leand replay``, what-ifs, tests): the same records in Python objects, with the same arithmetic in the same
order as the SQL, so a replay fills, books fees and numbers fills exactly as the stored venue would, without
a database round trip per order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from leand.model import ExecReport, OrderStatus, VenueOrder

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    client_order_id TEXT PRIMARY KEY, venue_order_id INTEGER UNIQUE, symbol TEXT, quantity REAL, type TEXT,
    limit_price REAL, status TEXT, filled REAL DEFAULT 0, created_ns INTEGER, updated_ns INTEGER,
    stop_price REAL, trailing_amount REAL, trailing_pct INTEGER DEFAULT 0, tif TEXT DEFAULT 'gtc');
CREATE TABLE IF NOT EXISTS fills (
    fill_id INTEGER PRIMARY KEY AUTOINCREMENT, client_order_id TEXT, symbol TEXT, quantity REAL, price REAL,
    fee REAL, fee_currency TEXT, liquidity TEXT, time_ns INTEGER);
CREATE TABLE IF NOT EXISTS balances (asset TEXT PRIMARY KEY, amount REAL);
CREATE TABLE IF NOT EXISTS submissions (client_order_id TEXT, time_ns INTEGER);
CREATE INDEX IF NOT EXISTS orders_open ON orders (symbol, status);
"""
#: columns a store made before the venue kept stops gets on open
_ADDED = (("stop_price", "REAL"), ("trailing_amount", "REAL"), ("trailing_pct", "INTEGER DEFAULT 0"),
          ("tif", "TEXT DEFAULT 'gtc'"))
OPEN = ("accepted", "partially_filled")

#: what the venue reads of one order: symbol, status, quantity, filled, type, limit price, venue order id,
#: stop price
OrderRow = tuple[str, str, float, float, str, float | None, int, float | None]
#: an open order as the venue puts it back in its book on opening: client order id, venue order id, symbol,
#: quantity, type, limit price, stop price, trailing amount, trailing as a percentage, time in force, filled
OpenRow = tuple[str, int, str, float, str, float | None, float | None, float | None, int, str, float]


class PaperAccount(Protocol):
    """What the paper venue asks of its account keeper."""

    def has_balances(self) -> bool: ...
    def seed_balances(self, balances: dict[str, float]) -> None: ...
    def max_venue_order_id(self) -> int: ...
    def open_rows(self) -> list[OpenRow]: ...
    def record_submission(self, cid: str, now_ns: int) -> None: ...
    def has_order(self, cid: str) -> bool: ...
    def insert_order(self, cid: str, vid: int, sid: str, quantity: float, type_: str, limit_price: float | None,
                     now_ns: int, stop_price: float | None, trailing_amount: float | None, trailing_pct: bool,
                     tif: str) -> None: ...
    def row(self, cid: str) -> OrderRow | None: ...
    def set_status(self, cid: str, status: str, now_ns: int) -> None: ...
    def cut_to_filled(self, cid: str, quantity: float, now_ns: int) -> None: ...
    def amend(self, cid: str, quantity: float, limit_price: float | None, stop_price: float | None,
              trailing_amount: float | None, now_ns: int) -> None: ...
    def fill(self, cid: str, sid: str, q: float, price: float, fee: float, quote: str, base: str | None,
             liquidity: str, now_ns: int) -> tuple[str, int]: ...
    def balances(self) -> dict[str, float]: ...
    def balance(self, asset: str) -> float: ...
    def order(self, cid: str) -> VenueOrder | None: ...
    def open_orders(self) -> list[VenueOrder]: ...
    def fills_since(self, fill_id: int) -> list[ExecReport]: ...
    def submission_counts(self) -> dict[str, int]: ...
    def close(self) -> None: ...


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


class SqliteAccount:
    """The account in its own SQLite store (WAL), apart from the daemon's, as a real venue's would be."""

    def __init__(self, store: Path | str) -> None:
        if isinstance(store, Path):
            store.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(store, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        have = {r[1] for r in self.db.execute("PRAGMA table_info(orders)")}
        for col, decl in _ADDED:
            if col not in have:
                self.db.execute(f"ALTER TABLE orders ADD COLUMN {col} {decl}")

    def has_balances(self) -> bool:
        return self.db.execute("SELECT 1 FROM balances LIMIT 1").fetchone() is not None

    def seed_balances(self, balances: dict[str, float]) -> None:
        with _transaction(self.db):
            self.db.executemany("INSERT INTO balances VALUES (?, ?)", list(balances.items()))

    def max_venue_order_id(self) -> int:
        return int(self.db.execute("SELECT COALESCE(MAX(venue_order_id), 0) FROM orders").fetchone()[0])

    def open_rows(self) -> list[OpenRow]:
        return self.db.execute(
            "SELECT client_order_id, venue_order_id, symbol, quantity, type, limit_price, stop_price, "
            "trailing_amount, trailing_pct, tif, filled FROM orders WHERE status IN ('accepted',"
            "'partially_filled') ORDER BY venue_order_id").fetchall()

    def record_submission(self, cid: str, now_ns: int) -> None:
        with _transaction(self.db):
            self.db.execute("INSERT INTO submissions VALUES (?, ?)", (cid, now_ns))

    def has_order(self, cid: str) -> bool:
        return self.db.execute("SELECT 1 FROM orders WHERE client_order_id=?", (cid,)).fetchone() is not None

    def insert_order(self, cid: str, vid: int, sid: str, quantity: float, type_: str, limit_price: float | None,
                     now_ns: int, stop_price: float | None, trailing_amount: float | None, trailing_pct: bool,
                     tif: str) -> None:
        with _transaction(self.db):
            self.db.execute("INSERT INTO orders (client_order_id, venue_order_id, symbol, quantity, type, "
                            "limit_price, status, filled, created_ns, updated_ns, stop_price, trailing_amount, "
                            "trailing_pct, tif) VALUES (?,?,?,?,?,?,?,0,?,?,?,?,?,?)",
                            (cid, vid, sid, quantity, type_, limit_price, "accepted", now_ns, now_ns,
                             stop_price, trailing_amount, int(trailing_pct), tif))

    def row(self, cid: str) -> OrderRow | None:
        return self.db.execute("SELECT symbol, status, quantity, filled, type, limit_price, venue_order_id, "
                               "stop_price FROM orders WHERE client_order_id=?", (cid,)).fetchone()

    def set_status(self, cid: str, status: str, now_ns: int) -> None:
        with _transaction(self.db):
            self.db.execute("UPDATE orders SET status=?, updated_ns=? WHERE client_order_id=?",
                            (status, now_ns, cid))

    def cut_to_filled(self, cid: str, quantity: float, now_ns: int) -> None:
        with _transaction(self.db):
            self.db.execute("UPDATE orders SET quantity=?, status='filled', updated_ns=? WHERE "
                            "client_order_id=?", (quantity, now_ns, cid))

    def amend(self, cid: str, quantity: float, limit_price: float | None, stop_price: float | None,
              trailing_amount: float | None, now_ns: int) -> None:
        with _transaction(self.db):
            self.db.execute("UPDATE orders SET quantity=?, limit_price=?, stop_price=COALESCE(?, stop_price), "
                            "trailing_amount=COALESCE(?, trailing_amount), updated_ns=? WHERE client_order_id=?",
                            (quantity, limit_price, stop_price, trailing_amount, now_ns, cid))

    def fill(self, cid: str, sid: str, q: float, price: float, fee: float, quote: str, base: str | None,
             liquidity: str, now_ns: int) -> tuple[str, int]:
        """Book a fill of ``q`` (signed) at ``price``: the order's filled quantity and status, the fill, the
        balances, in one transaction. Returns the order's status after it and the fill's id."""
        with _transaction(self.db):
            self.db.execute("UPDATE orders SET filled = filled + ?, status = CASE WHEN abs(quantity - filled - ?) "
                            "< 1e-9 THEN 'filled' ELSE 'partially_filled' END, updated_ns=? WHERE "
                            "client_order_id=?", (q, q, now_ns, cid))
            cur = self.db.execute("INSERT INTO fills (client_order_id, symbol, quantity, price, fee, fee_currency, "
                                  "liquidity, time_ns) VALUES (?,?,?,?,?,?,?,?)",
                                  (cid, sid, q, price, fee, quote, liquidity, now_ns))
            self.db.execute("INSERT INTO balances VALUES (?, ?) ON CONFLICT(asset) DO UPDATE SET amount = amount + ?",
                            (quote, -q * price - fee, -q * price - fee))
            if base:
                self.db.execute("INSERT INTO balances VALUES (?, ?) ON CONFLICT(asset) DO UPDATE SET "
                                "amount = amount + ?", (base, q, q))
        status = self.db.execute("SELECT status FROM orders WHERE client_order_id=?", (cid,)).fetchone()[0]
        return status, cur.lastrowid or 0

    def balances(self) -> dict[str, float]:
        return dict(self.db.execute("SELECT asset, amount FROM balances ORDER BY asset").fetchall())

    def balance(self, asset: str) -> float:
        """One asset's balance (0.0 for one never held)."""
        row = self.db.execute("SELECT amount FROM balances WHERE asset=?", (asset,)).fetchone()
        return 0.0 if row is None else row[0]

    def order(self, cid: str) -> VenueOrder | None:
        row = self.db.execute("SELECT client_order_id, venue_order_id, symbol, quantity, type, limit_price, status, "
                              "filled FROM orders WHERE client_order_id=?", (cid,)).fetchone()
        return None if row is None else VenueOrder(client_order_id=row[0], venue_order_id=row[1], symbol=row[2],
                                                   quantity=row[3], type=row[4], limit_price=row[5],
                                                   status=OrderStatus(row[6]), filled=row[7])

    def open_orders(self) -> list[VenueOrder]:
        rows = self.db.execute("SELECT client_order_id FROM orders WHERE status IN ('accepted','partially_filled') "
                               "ORDER BY venue_order_id").fetchall()
        return [o for r in rows if (o := self.order(r[0])) is not None]

    def fills_since(self, fill_id: int) -> list[ExecReport]:
        rows = self.db.execute("SELECT f.fill_id, f.client_order_id, f.symbol, f.quantity, f.price, f.fee, "
                               "f.fee_currency, f.liquidity, f.time_ns, o.status FROM fills f JOIN orders o USING "
                               "(client_order_id) WHERE f.fill_id > ? ORDER BY f.fill_id", (fill_id,)).fetchall()
        return [ExecReport(client_order_id=r[1], status=OrderStatus(r[9]), symbol=r[2], time_ns=r[8], fill_id=r[0],
                           fill_quantity=r[3], fill_price=r[4], fee=r[5], fee_currency=r[6], liquidity=r[7])
                for r in rows]

    def submission_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT client_order_id, COUNT(*) FROM submissions GROUP BY client_order_id"))

    def close(self) -> None:
        self.db.close()


class _Order:
    """One order of the in-memory account (the SQL store's ``orders`` row)."""

    __slots__ = ("cid", "filled", "limit_price", "quantity", "status", "stop_price", "symbol", "tif",
                 "trailing_amount", "trailing_pct", "type", "updated_ns", "vid")

    def __init__(self, cid: str, vid: int, symbol: str, quantity: float, type_: str, limit_price: float | None,
                 now_ns: int, stop_price: float | None, trailing_amount: float | None, trailing_pct: bool,
                 tif: str) -> None:
        # REAL columns hold floats whatever they were given: the same here, so the two keepers report alike
        self.cid = cid
        self.vid = vid
        self.symbol = symbol
        self.quantity = float(quantity)
        self.type = type_
        self.limit_price = None if limit_price is None else float(limit_price)
        self.status = "accepted"
        self.filled = 0.0
        self.updated_ns = now_ns
        self.stop_price = None if stop_price is None else float(stop_price)
        self.trailing_amount = None if trailing_amount is None else float(trailing_amount)
        self.trailing_pct = int(trailing_pct)
        self.tif = tif


class MemoryAccount:
    """The account in memory, for a venue that lives only as long as its run: the SQL store's records and
    arithmetic (a fill's status test, the balances' running sums, fill ids from 1) without the database."""

    def __init__(self) -> None:
        self._orders: dict[str, _Order] = {}
        self._fills: list[tuple[int, str, str, float, float, float, str, str, int]] = []
        self._balances: dict[str, float] = {}
        self._submissions: dict[str, int] = {}
        self._max_vid = 0

    def has_balances(self) -> bool:
        return bool(self._balances)

    def seed_balances(self, balances: dict[str, float]) -> None:
        for asset, amount in balances.items():
            self._balances[asset] = float(amount)

    def max_venue_order_id(self) -> int:
        return self._max_vid

    def open_rows(self) -> list[OpenRow]:
        return [(o.cid, o.vid, o.symbol, o.quantity, o.type, o.limit_price, o.stop_price, o.trailing_amount,
                 o.trailing_pct, o.tif, o.filled)
                for o in sorted(self._orders.values(), key=lambda o: o.vid) if o.status in OPEN]

    def record_submission(self, cid: str, now_ns: int) -> None:
        self._submissions[cid] = self._submissions.get(cid, 0) + 1

    def has_order(self, cid: str) -> bool:
        return cid in self._orders

    def insert_order(self, cid: str, vid: int, sid: str, quantity: float, type_: str, limit_price: float | None,
                     now_ns: int, stop_price: float | None, trailing_amount: float | None, trailing_pct: bool,
                     tif: str) -> None:
        self._orders[cid] = _Order(cid, vid, sid, quantity, type_, limit_price, now_ns, stop_price,
                                   trailing_amount, trailing_pct, tif)
        if vid > self._max_vid:
            self._max_vid = vid

    def row(self, cid: str) -> OrderRow | None:
        o = self._orders.get(cid)
        if o is None:
            return None
        return o.symbol, o.status, o.quantity, o.filled, o.type, o.limit_price, o.vid, o.stop_price

    def set_status(self, cid: str, status: str, now_ns: int) -> None:
        o = self._orders.get(cid)
        if o is not None:
            o.status = status
            o.updated_ns = now_ns

    def cut_to_filled(self, cid: str, quantity: float, now_ns: int) -> None:
        o = self._orders.get(cid)
        if o is not None:
            o.quantity, o.status, o.updated_ns = float(quantity), "filled", now_ns

    def amend(self, cid: str, quantity: float, limit_price: float | None, stop_price: float | None,
              trailing_amount: float | None, now_ns: int) -> None:
        o = self._orders.get(cid)
        if o is None:
            return
        o.quantity = float(quantity)
        o.limit_price = None if limit_price is None else float(limit_price)
        if stop_price is not None:
            o.stop_price = float(stop_price)
        if trailing_amount is not None:
            o.trailing_amount = float(trailing_amount)
        o.updated_ns = now_ns

    def fill(self, cid: str, sid: str, q: float, price: float, fee: float, quote: str, base: str | None,
             liquidity: str, now_ns: int) -> tuple[str, int]:
        o = self._orders[cid]
        # the SQL's CASE reads the filled quantity before its SET: the same test, on the same operands
        o.status = "filled" if abs(o.quantity - o.filled - q) < 1e-9 else "partially_filled"
        o.filled = o.filled + q
        o.updated_ns = now_ns
        fill_id = len(self._fills) + 1
        self._fills.append((fill_id, cid, sid, q, price, fee, quote, liquidity, now_ns))
        bal = self._balances
        cash = -q * price - fee
        bal[quote] = bal[quote] + cash if quote in bal else cash
        if base:
            bal[base] = bal[base] + q if base in bal else q
        return o.status, fill_id

    def balances(self) -> dict[str, float]:
        return {a: self._balances[a] for a in sorted(self._balances)}

    def balance(self, asset: str) -> float:
        return self._balances.get(asset, 0.0)

    def order(self, cid: str) -> VenueOrder | None:
        o = self._orders.get(cid)
        return None if o is None else VenueOrder(client_order_id=o.cid, venue_order_id=o.vid, symbol=o.symbol,
                                                 quantity=o.quantity, type=o.type, limit_price=o.limit_price,
                                                 status=OrderStatus(o.status), filled=o.filled)

    def open_orders(self) -> list[VenueOrder]:
        return [v for o in sorted(self._orders.values(), key=lambda o: o.vid)
                if o.status in OPEN and (v := self.order(o.cid)) is not None]

    def fills_since(self, fill_id: int) -> list[ExecReport]:
        orders = self._orders
        return [ExecReport(client_order_id=f[1], status=OrderStatus(orders[f[1]].status), symbol=f[2], time_ns=f[8],
                           fill_id=f[0], fill_quantity=f[3], fill_price=f[4], fee=f[5], fee_currency=f[6],
                           liquidity=f[7])
                for f in self._fills[max(fill_id, 0):]]

    def submission_counts(self) -> dict[str, int]:
        return {cid: self._submissions[cid] for cid in sorted(self._submissions)}

    def close(self) -> None:
        """Nothing to release."""
