"""The daemon's write-ahead journal (SQLite in WAL mode, through sqlite-utils).

Order intents are written, with their client order id, before anything is sent; every order event and fill is
written before the engine acts on it; state-changing ctl commands are written with who and when. Commits are
synchronous=NORMAL in WAL mode: durable against a process crash (what SIGKILL tests), one fsync per checkpoint.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from leand.live.intentlog import (
    FsyncPolicy,
    IntentLog,
    IntentRecord,
    Record,
    StatusRecord,
    cut_torn_tail,
    read_records,
)
from leand.model import STATUS_RANK, Fill, LiquiditySide, OrderStatus, OrderType, Symbol, TimeInForce

#: an order's status in the journal is an :class:`OrderStatus` value: ``new`` once the intent is written,
#: ``submitted`` once sent, then what the venue reports; it only ever moves forward
OPEN_STATES = tuple(s.value for s in OrderStatus if s.is_open)
_RANK = {s.value: r for s, r in STATUS_RANK.items()}
_RANK.update({"intent": 0, "sent": 1, "not_sent": 4})  # journals written before statuses were typed
#: statuses an order never leaves
_FINAL = tuple(s for s, r in _RANK.items() if r >= 4)
#: a status record with this code marks an emulated order's trigger instead of moving its status
TRIGGERED = "EMULATED_TRIGGERED"
_DIGITS = "0123456789"
#: a status (a member or its value) -> its value: the dict lookup ``OrderStatus(status)`` starts with, without
#: Enum's call (anything else still goes through it, which raises for what is no status)
_STATUS_VALUE = {m.value: m.value for m in OrderStatus}
#: ids per ``IN (...)`` query (under SQLite's oldest bound on a statement's parameters, 999)
_IN_CHUNK = 500
#: id prefixes whose highest number the journal remembers (one per strategy in a daemon's run)
_MAX_PREFIXES = 1024


#: called with (kind, nanoseconds) for each write: "sqlite" per committed transaction, "intent_log" per append
#: to the intent log (those when the journal next absorbs the log, off the hot path: the metric is at most an
#: absorb interval behind); the daemon points it at its metrics
write_observer: Callable[[str, int], None] | None = None


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One atomic write. The connections run in autocommit mode (``isolation_level=None``), where
    ``with conn:`` alone does not open a transaction and every statement commits on its own: a crash
    between two of them would leave half a change (a fill without its order status). ``BEGIN IMMEDIATE``
    makes the block all or nothing."""
    t0 = time.perf_counter_ns()
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    if write_observer is not None:
        write_observer("sqlite", time.perf_counter_ns() - t0)


class Journal:
    """Intents and status changes go first to an append-only :class:`IntentLog` (one copy into its mapped file
    each, the hot path) and are absorbed into SQLite in the background and before every read, so readers always see
    them; fills, snapshots and audit rows are SQLite transactions. Opening a journal recovers what a crash
    left in the log."""

    #: rotate the log once it is this large and fully absorbed
    ROTATE_BYTES = 8 << 20

    def __init__(self, path: Path, fsync: FsyncPolicy = "never") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite_utils.Database(path)
        self.db.conn.isolation_level = None  # explicit transactions only
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._create()
        self.conn = self.db.conn
        self._pending: list[Record] = []
        self._pending_cids: set[str] = set()
        #: how long each append to the intent log took (ns), until ``absorb`` hands them to ``write_observer``
        self._write_ns: list[int] = []
        #: id prefix -> the highest numeric suffix of the ids with that prefix journaled so far (see _fresh)
        self._top: dict[str, int] = {}
        self._gen = int(self.get("intentlog_gen", "1") or 1)
        self.log = IntentLog(self._log_path(self._gen), fsync, self._recover())

    # -- the intent log -------------------------------------------------------------------------------
    def _log_path(self, gen: int) -> Path:
        return self.path.with_name(f"{self.path.stem}.intents.{gen}.log")

    def _recover(self) -> int:
        """Absorb what the log holds past the last absorbed offset; cut a torn tail so appends follow good
        records; remove logs of older generations (left if a crash came mid-rotation). Returns where the log's
        last whole record ends."""
        path = self._log_path(self._gen)
        offset = int(self.get("intentlog_offset", "0") or 0)
        end, recs = offset, []
        for end, rec in read_records(path, offset):  # noqa: B007 - end is the last good offset
            recs.append(rec)
        if recs:
            with transaction(self.conn):
                self._apply(recs)
                self._put_offset(end)
        cut_torn_tail(path, end)
        for old in self.path.parent.glob(f"{self.path.stem}.intents.*.log"):
            g = old.name.rsplit(".", 2)[-2]
            if g.isdigit() and int(g) < self._gen:
                old.unlink()
        return end

    def _put_offset(self, offset: int) -> None:
        self.conn.execute("INSERT INTO meta VALUES ('intentlog_offset', ?) ON CONFLICT(key) DO UPDATE SET "
                          "value=excluded.value", (str(offset),))

    def _apply(self, recs: list[Record]) -> None:
        ex = self.conn.execute
        for r in recs:
            if isinstance(r, IntentRecord):
                ex("INSERT OR IGNORE INTO intents (client_order_id, strategy, symbol, quantity, type, limit_price, "
                   "stop_price, time_in_force, tag, status, filled, created_ns, updated_ns, boot, emulated, triggered, "
                   "trailing_amount, trailing_pct, expire_ns) VALUES (?,?,?,?,?,?,?,?,?,'new',0,?,?,?,?,0,?,?,?)",
                   (r.client_order_id, r.strategy, r.symbol, r.quantity, r.type, r.limit_price, r.stop_price,
                    r.time_in_force, r.tag, r.time_ns, r.time_ns, r.boot, int(r.emulated), r.trailing_amount,
                    int(r.trailing_pct), r.expire_ns))
                continue
            code = r.code
            if code == TRIGGERED:
                ex("UPDATE intents SET triggered=1, updated_ns=? WHERE client_order_id=?", (r.time_ns, r.client_order_id))
            elif not self._advance(r.client_order_id, r.status, r.time_ns):
                code = code or "LATE"  # kept as what the venue said; the order's status stays
            ex("INSERT INTO events (client_order_id, status, time_ns, code, message) VALUES (?,?,?,?,?)",
               (r.client_order_id, r.status, r.time_ns, code, r.message))

    def _advance(self, cid: str, status: str, now_ns: int) -> bool:
        """Move the intent's status forward to ``status``; False (and no change) if that would move it back
        or out of a final state, e.g. a cancel refused after the order filled."""
        row = self.conn.execute("SELECT status FROM intents WHERE client_order_id=?", (cid,)).fetchone()
        if row is not None:
            cur = _RANK.get(row[0], 0)
            if cur >= 4 or _RANK.get(status, 0) < cur:
                return False
        self.conn.execute("UPDATE intents SET status=?, updated_ns=? WHERE client_order_id=?", (status, now_ns, cid))
        return True

    def absorb(self) -> int:
        """Move what was appended to the log into SQLite in one transaction; returns how many records."""
        times = self._write_ns
        if times:  # the appends' durations, observed here rather than on the hot path (a call and a bisect each)
            self._write_ns = []
            observe = write_observer
            if observe is not None:
                for ns in times:
                    observe("intent_log", ns)
        pending = self._pending
        if not pending:
            return 0
        self._pending, self._pending_cids = [], set()
        with transaction(self.conn):
            self._apply(pending)
            self._put_offset(self.log.size)
        if self.log.size >= self.ROTATE_BYTES:
            self._rotate()
        return len(pending)

    def _rotate(self) -> None:
        """Start a new, empty log generation; the meta row names it before the old file goes."""
        old = self.log
        self.log = IntentLog(self._log_path(self._gen + 1), old.fsync)
        with transaction(self.conn):
            self.conn.execute("INSERT INTO meta VALUES ('intentlog_gen', ?) ON CONFLICT(key) DO UPDATE SET "
                              "value=excluded.value", (str(self._gen + 1),))
            self._put_offset(0)
        self._gen += 1
        old.close()
        old.path.unlink()

    def sync(self) -> None:
        """The ``interval`` fsync policy's tick (a no-op unless something was written since)."""
        if self.log.fsync == "interval":
            self.log.sync()

    def _create(self) -> None:
        db = self.db
        if "meta" not in db.table_names():
            db.table("meta").create({"key": str, "value": str}, pk="key")
            db.table("intents").create({
                "client_order_id": str, "strategy": str, "symbol": str, "quantity": float, "type": str,
                "limit_price": float, "stop_price": float, "time_in_force": str, "tag": str, "status": str,
                "filled": float, "created_ns": int, "updated_ns": int, "boot": int}, pk="client_order_id")
            db.table("events").create({"seq": int, "client_order_id": str, "status": str, "time_ns": int, "code": str,
                                 "message": str}, pk="seq")
            db.table("fills").create({"venue_fill_id": int, "client_order_id": str, "symbol": str, "quantity": float,
                                "price": float, "fee": float, "fee_currency": str, "liquidity": str, "time_ns": int,
                                "recovered": int}, pk="venue_fill_id")
            db.table("ctl_audit").create({"seq": int, "time_ns": int, "who": str, "command": str, "args": str}, pk="seq")
            db.table("snapshots").create({"strategy": str, "time_ns": int, "state": str}, pk="strategy")
            db.table("intents").create_index(["status"])
        if "links" not in db.table_names():  # one-cancels-other pairs, so they survive a restart
            db.table("links").create({"client_order_id": str, "other": str}, pk="client_order_id")
        if "brackets" not in db.table_names():  # brackets waiting for their entry, so they survive a restart
            db.table("brackets").create({"client_order_id": str, "take_profit": float, "stop_loss": float,
                                         "tag": str, "armed": int, "list": int, "take_profit_cid": str,
                                         "stop_loss_cid": str}, pk="client_order_id")
        cols = {c.name for c in db.table("intents").columns}
        for name, kind in (("emulated", int), ("triggered", int), ("trailing_amount", float), ("trailing_pct", int),
                           ("expire_ns", int)):
            if name not in cols:  # journals from before emulated orders gain them on open
                db.table("intents").add_column(name, kind)
        # the newest fill of a symbol (a venue without ordered trade ids recovers from its time): one index seek
        db.execute("CREATE INDEX IF NOT EXISTS fills_symbol_time ON fills(symbol, time_ns)")
        # the oldest intent of a symbol (where a snapshot reads a venue's trade history from): one index seek
        db.execute("CREATE INDEX IF NOT EXISTS intents_symbol_created ON intents(symbol, created_ns)")
        if "equity" not in db.table_names():  # added later: journals from older versions gain it on open
            db.table("equity").create({"seq": int, "time_ns": int, "scope": str, "owner": str, "equity": float,
                                 "cash": str, "positions": str}, pk="seq")
            db.table("equity").create_index(["scope", "owner", "time_ns"])

    # -- meta -----------------------------------------------------------------------------------------
    def get(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def put(self, key: str, value: Any) -> None:
        with transaction(self.conn):
            self.conn.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                              (key, str(value)))

    def next_boot(self) -> int:
        boot = int(self.get("boot") or 0) + 1
        self.put("boot", boot)
        return boot

    # -- orders -----------------------------------------------------------------------------------------
    def intent(self, cid: str, strategy: str, symbol: Symbol, quantity: float, type_: OrderType | str,
               limit: float | None, stop: float | None, tif: TimeInForce | str, tag: str, now_ns: int, boot: int,
               *, emulated: bool = False, trailing_amount: float | None = None, trailing_pct: bool = False,
               expire_ns: int | None = None) -> None:
        """Journal an order intent: in the kernel (one write) when this returns. A client order id used before
        raises ``sqlite3.IntegrityError``, as the table's primary key would: an id is never reused."""
        # _fresh's common case inline (one call less on the hot path): a prefix seen before, a higher number
        prefix = cid.rstrip(_DIGITS)
        top = self._top.get(prefix)
        digits = cid[len(prefix):]
        if top is not None and digits and digits[0] != "0" and (n := int(digits)) > top:
            self._top[prefix] = n
        elif not self._fresh(cid) and (cid in self._pending_cids or self.conn.execute(
                "SELECT 1 FROM intents WHERE client_order_id=?", (cid,)).fetchone() is not None):
            raise sqlite3.IntegrityError(f"UNIQUE constraint failed: intents.client_order_id ({cid})")
        rec = IntentRecord(cid, strategy, symbol.id, quantity, str(type_), limit, stop, str(tif), tag, now_ns, boot,
                           emulated, trailing_amount, trailing_pct, expire_ns)
        if write_observer is None:
            self.log.append(rec)
        else:  # (_append inline)
            t0 = time.perf_counter_ns()
            self.log.append(rec)
            self._write_ns.append(time.perf_counter_ns() - t0)
        self._pending.append(rec)
        self._pending_cids.add(cid)

    def _fresh(self, cid: str) -> bool:
        """Whether ``cid`` is certainly new, known without a SQLite lookup (a few µs on the hot path). The order
        manager's ids are ``<strategy>-<boot>-<n>`` with ``n`` counting up, so per prefix (everything before the
        trailing digits) the highest ``n`` journaled so far is remembered: a higher one was never used. The first
        id of a prefix reads that highest ``n`` from SQLite and the log not yet absorbed (one indexed range query);
        anything else (a replacement ``<id>:<k>``, a leading zero) is looked up as before."""
        prefix = cid.rstrip(_DIGITS)
        digits = cid[len(prefix):]
        if not digits or digits[0] == "0" or not prefix.endswith("-"):
            return False
        top = self._top.get(prefix)
        if top is None:
            if len(self._top) >= _MAX_PREFIXES:
                return False
            top = self._top[prefix] = self._highest(prefix)
        n = int(digits)
        if n <= top:
            return False
        self._top[prefix] = n  # the caller journals it (or raises before writing anything: still a bound)
        return True

    def _highest(self, prefix: str) -> int:
        """The highest numeric suffix of the ids ``<prefix><digits>`` journaled (0: none). ``:`` sorts right
        after ``9``, so the range holds exactly the ids that go on with a digit."""
        n = len(prefix)
        top = 0
        rows = self.conn.execute("SELECT client_order_id FROM intents WHERE client_order_id >= ? AND "
                                 "client_order_id < ?", (prefix + "0", prefix + ":"))
        for (cid,) in rows:
            tail = cid[n:]
            if tail.isascii() and tail.isdigit():
                top = max(top, int(tail))
        for cid in self._pending_cids:
            tail = cid[n:]
            if cid.startswith(prefix) and tail.isascii() and tail.isdigit():
                top = max(top, int(tail))
        return top

    def _append(self, rec: Record) -> None:
        if write_observer is None:
            self.log.append(rec)
            return
        t0 = time.perf_counter_ns()
        self.log.append(rec)
        self._write_ns.append(time.perf_counter_ns() - t0)

    def set_status(self, cid: str, status: OrderStatus, now_ns: int, code: str = "", message: str = "") -> None:
        """Record a status report; the intent's status follows it only forward (the event is kept either way,
        as what the venue said)."""
        rec = StatusRecord(cid, _STATUS_VALUE.get(status) or OrderStatus(status).value, now_ns, code, message)
        self._append(rec)
        self._pending.append(rec)

    def triggered(self, cid: str, leg_type: OrderType, now_ns: int) -> None:
        """An emulated order's trigger was crossed: in the kernel before its venue order is sent, so it fires
        once even across a crash."""
        rec = StatusRecord(cid, "triggered", now_ns, TRIGGERED, f"sent as {leg_type.value}")
        self._append(rec)
        self._pending.append(rec)

    def update_terms(self, cid: str, quantity: float | None, limit: float | None, stop: float | None,
                     now_ns: int) -> None:
        """An accepted update (or a trailing stop's move): the intent carries the order's new terms."""
        self.absorb()
        with transaction(self.conn):
            self.conn.execute("UPDATE intents SET quantity=COALESCE(?, quantity), limit_price=COALESCE(?, limit_price), "
                              "stop_price=COALESCE(?, stop_price), updated_ns=? WHERE client_order_id=?",
                              (quantity, limit, stop, now_ns, cid))
            self.conn.execute("INSERT INTO events (client_order_id, status, time_ns, code, message) VALUES "
                              "(?,?,?,'UPDATED',?)", (cid, "update_accepted", now_ns,
                                                      f"quantity {quantity} limit {limit} stop {stop}"))

    def fill(self, venue_fill_id: int, cid: str, symbol: str, qty: float, price: float, fee: float, fee_ccy: str,
             liquidity: str, time_ns: int, status: OrderStatus, recovered: bool = False) -> bool:
        """Persist a fill and the order's new status in one transaction; False if already journaled."""
        self.absorb()  # the fill's intent and its earlier statuses are in SQLite before the fill updates them
        with transaction(self.conn):
            cur = self.conn.execute("INSERT OR IGNORE INTO fills VALUES (?,?,?,?,?,?,?,?,?,?)",
                                    (venue_fill_id, cid, symbol, qty, price, fee, fee_ccy, liquidity, time_ns,
                                     int(recovered)))
            if cur.rowcount == 0:
                return False
            self.conn.execute("UPDATE intents SET filled = filled + ? WHERE client_order_id=?", (qty, cid))
            self._advance(cid, str(status), time_ns)
            self.conn.execute("INSERT INTO events (client_order_id, status, time_ns, code, message) VALUES "
                              "(?,?,?,'FILL',?)", (cid, str(status), time_ns, f"{qty:+g} @ {price:g}"))
        return True

    def event(self, cid: str, status: OrderStatus | str, now_ns: int, code: str = "", message: str = "") -> None:
        """An event of an order that leaves its status as it is (a refused cancel or update)."""
        self.absorb()  # after the order's earlier events
        with transaction(self.conn):
            self.conn.execute("INSERT INTO events (client_order_id, status, time_ns, code, message) VALUES (?,?,?,?,?)",
                              (cid, str(status), now_ns, code, message))

    def link(self, a: str, b: str) -> None:
        """Orders ``a`` and ``b`` cancel each other (one-cancels-other)."""
        with transaction(self.conn):
            self.conn.executemany("INSERT OR REPLACE INTO links VALUES (?, ?)", [(a, b), (b, a)])

    def links(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT client_order_id, other FROM links").fetchall())

    def bracket(self, cid: str, take_profit: float, stop_loss: float, tag: str,
                exits: tuple[str, str] | None = None) -> None:
        """Entry ``cid``'s bracket waits for it to fill (``exits``: the client ids of its exits, sent with it as
        one venue order list)."""
        tp_cid, sl_cid = exits if exits is not None else (None, None)
        with transaction(self.conn):
            self.conn.execute("INSERT OR REPLACE INTO brackets VALUES (?,?,?,?,0,?,?,?)",
                              (cid, take_profit, stop_loss, tag, int(exits is not None), tp_cid, sl_cid))

    def bracket_armed(self, cid: str) -> None:
        """Entry ``cid``'s exits are being placed: a restart must not place them again."""
        with transaction(self.conn):
            self.conn.execute("UPDATE brackets SET armed = 1 WHERE client_order_id = ?", (cid,))

    def bracket_exits(self, cid: str, take_profit_cid: str, stop_loss_cid: str) -> None:
        """Entry ``cid``'s armed exits are these orders: a restart gives the strategy its bracket back with them
        while either is open."""
        with transaction(self.conn):
            self.conn.execute("UPDATE brackets SET take_profit_cid = ?, stop_loss_cid = ? WHERE client_order_id = ?",
                              (take_profit_cid, stop_loss_cid, cid))

    def waiting_brackets(self) -> list[dict[str, Any]]:
        """Brackets whose exits were not armed yet, each as its row."""
        return self._bracket_rows("armed = 0")

    def armed_brackets(self) -> list[dict[str, Any]]:
        """Brackets whose exits were armed, with the exits' client order ids, each as its row (those not pruned
        yet: an exit may still be open)."""
        return self._bracket_rows("armed = 1 AND take_profit_cid IS NOT NULL")

    def _bracket_rows(self, where: str) -> list[dict[str, Any]]:
        cur = self.conn.execute("SELECT client_order_id, take_profit, stop_loss, tag, list, take_profit_cid, "
                                f"stop_loss_cid FROM brackets WHERE {where}")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def prune_brackets(self) -> int:
        """Forget the brackets that are done: armed with neither exit open any more (or with exits not known:
        armed before they were journaled), or whose entry ended with nothing filled (nothing to protect; the
        order manager let it go then too). A restart only ever reads the others (waiting, or armed with an exit
        still open: the strategy gets them back); before, every bracket ever placed stayed in the table and was
        read again at every start. Returns how many rows went."""
        if self.conn.execute("SELECT 1 FROM brackets LIMIT 1").fetchone() is None:
            return 0
        self.absorb()  # the entries' and exits' closing statuses
        opened = ",".join("?" * len(OPEN_STATES))
        with transaction(self.conn):
            cur = self.conn.execute(
                f"DELETE FROM brackets WHERE (armed = 1 AND (take_profit_cid IS NULL OR NOT EXISTS (SELECT 1 FROM "
                f"intents i WHERE i.client_order_id IN (brackets.take_profit_cid, brackets.stop_loss_cid) AND "
                f"i.status IN ({opened})))) OR client_order_id IN (SELECT client_order_id FROM intents "
                f"WHERE status IN ({','.join('?' * len(_FINAL))}) AND filled = 0)", (*OPEN_STATES, *_FINAL))
        return cur.rowcount

    def last_fill_id(self) -> int:
        return self.conn.execute("SELECT COALESCE(MAX(venue_fill_id), 0) FROM fills").fetchone()[0]

    def max_fill_id(self, lo: int, hi: int) -> int | None:
        """The highest venue fill id in [lo, hi), or None (a venue that keys fills per symbol asks per range)."""
        row = self.conn.execute("SELECT MAX(venue_fill_id) FROM fills WHERE venue_fill_id >= ? AND venue_fill_id < ?",
                                (lo, hi)).fetchone()
        return None if row is None else row[0]

    def fill_ids(self) -> set[int]:
        return {r[0] for r in self.conn.execute("SELECT venue_fill_id FROM fills")}

    def journaled_fills(self, ids: Iterable[int]) -> set[int]:
        """Those of ``ids`` already journaled: a snapshot asks about the trades it read, not every fill id the
        journal has ever held (one primary-key seek each)."""
        want = list(set(ids))
        out: set[int] = set()
        for k in range(0, len(want), _IN_CHUNK):
            part = want[k:k + _IN_CHUNK]
            out.update(r[0] for r in self.conn.execute(
                f"SELECT venue_fill_id FROM fills WHERE venue_fill_id IN ({','.join('?' * len(part))})", part))
        return out

    def last_fill_ns(self, symbol: str) -> int | None:
        """The venue time of the newest journaled fill of ``symbol`` (a symbol id), or None: where a venue whose
        trade ids do not order its trades asks its trade history from, by time."""
        return self.conn.execute("SELECT MAX(time_ns) FROM fills WHERE symbol = ?", (symbol,)).fetchone()[0]

    def fills_complete_through(self, lo: int = 0, hi: int | None = None) -> int:
        """The highest fill id ``n`` in ``(lo, hi)`` with every id ``lo + 1 .. n`` journaled (``lo`` when
        ``lo + 1`` is not). A venue whose fill ids count up by one (the paper venue's) recovers the fills after
        this, not after the highest id: fills are not always journaled in id order (a strategy's market order
        on the quote that filled its resting order is journaled before that quote's fills), so a crash can
        leave a gap under the highest id, and the gap is what a restart must recover. Ids are never deleted,
        so the end found is kept (meta ``fills_complete:<lo>``) and the next call scans only past it."""
        key = f"fills_complete:{lo}"
        start = n = max(lo, int(self.get(key) or lo))
        q = "SELECT venue_fill_id FROM fills WHERE venue_fill_id > ?"
        args: tuple[int, ...] = (n,)
        if hi is not None:
            q += " AND venue_fill_id < ?"
            args = (n, hi)
        for (fid,) in self.conn.execute(q + " ORDER BY venue_fill_id", args):
            if fid != n + 1:
                break
            n = fid
        if n > start:
            self.put(key, n)
        return n

    def fill_floor(self, lo: int, hi: int, window_ns: int) -> tuple[int | None, int | None]:
        """For a venue whose fill ids grow with its time (Binance's trade ids, per symbol): the highest fill id
        in ``[lo, hi)`` at least ``window_ns`` older, by the venue's time, than the newest there (None: none
        that old), and the newest's time (None: no fill there). A fill journaled after a later one leaves a gap
        under the highest id; recovering from the floor asks again for every trade in the window. Reads only
        the fills in the window (newest first, by primary key)."""
        newest: int | None = None
        for fid, t in self.conn.execute("SELECT venue_fill_id, time_ns FROM fills WHERE venue_fill_id >= ? AND "
                                        "venue_fill_id < ? ORDER BY venue_fill_id DESC", (lo, hi)):
            if newest is None:
                newest = t
            elif t <= newest - window_ns:
                return fid, newest
        return None, newest

    def strategy_of(self, cid: str) -> str | None:
        """The strategy whose intent ``cid`` is (None: no such intent)."""
        if cid in self._pending_cids:
            self.absorb()
        row = self.conn.execute("SELECT strategy FROM intents WHERE client_order_id=?", (cid,)).fetchone()
        return row[0] if row else None

    def open_intents(self) -> list[dict]:
        self.absorb()
        q = f"SELECT * FROM intents WHERE status IN ({','.join('?' * len(OPEN_STATES))}) ORDER BY created_ns"
        return list(self.db.query(q, OPEN_STATES))

    def intents_of(self, cids: Iterable[str]) -> dict[str, dict]:
        """The journaled intents among ``cids``, by client order id: a snapshot looks up the orders of the trades
        it read (an ended order's late fill included), not the journal's whole history."""
        self.absorb()
        want = list(set(cids))
        out: dict[str, dict] = {}
        for k in range(0, len(want), _IN_CHUNK):
            part = want[k:k + _IN_CHUNK]
            q = f"SELECT * FROM intents WHERE client_order_id IN ({','.join('?' * len(part))})"
            out.update((r["client_order_id"], r) for r in self.db.query(q, part))
        return out

    def first_intent_ns(self, symbol: str) -> int | None:
        """When the oldest intent of ``symbol`` (a symbol id) was created, or None: none (one index seek)."""
        self.absorb()
        return self.conn.execute("SELECT MIN(created_ns) FROM intents WHERE symbol = ?", (symbol,)).fetchone()[0]

    def intents(self) -> list[dict]:
        self.absorb()
        return list(self.db.query("SELECT * FROM intents ORDER BY created_ns"))

    def fills(self) -> list[Fill]:
        self.absorb()
        out = []
        for r in self.db.query("SELECT * FROM fills ORDER BY venue_fill_id"):
            out.append(Fill(order_id=0, symbol=Symbol.parse(r["symbol"]), time=r["time_ns"], quantity=r["quantity"],
                            price=r["price"], fee=r["fee"], fee_currency=r["fee_currency"],
                            liquidity=LiquiditySide(r["liquidity"] or "none"), trade_id=r["venue_fill_id"],
                            client_order_id=r["client_order_id"]))
        return out

    def fill_rows(self, strategy: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The newest ``limit`` fills, oldest first, each with the strategy whose intent it filled."""
        self.absorb()
        q = ("SELECT f.venue_fill_id AS fill_id, f.time_ns, i.strategy, f.client_order_id, f.symbol, f.quantity, "
             "f.price, f.fee, f.fee_currency, f.liquidity, f.recovered FROM fills f LEFT JOIN intents i "
             "ON i.client_order_id = f.client_order_id")
        args: tuple = ()
        if strategy is not None:
            q += " WHERE i.strategy = ?"
            args = (strategy,)
        rows = list(self.db.query(q + " ORDER BY f.venue_fill_id DESC LIMIT ?", (*args, limit)))
        return rows[::-1]

    # -- equity history ---------------------------------------------------------------------------------
    def equity_sample(self, samples: list[tuple[str, str, float, dict, dict]], now_ns: int) -> None:
        """One sample per (scope, owner): scope is ``strategy`` or ``account``; all in one transaction."""
        with transaction(self.conn):
            self.conn.executemany(
                "INSERT INTO equity (time_ns, scope, owner, equity, cash, positions) VALUES (?,?,?,?,?,?)",
                [(now_ns, scope, owner, equity, json.dumps(cash, sort_keys=True),
                  json.dumps(positions, sort_keys=True)) for scope, owner, equity, cash, positions in samples])

    def equity_history(self, scope: str | None = None, owner: str | None = None, since_ns: int = 0,
                       limit: int = 10_000) -> list[dict[str, Any]]:
        """Samples oldest first (the newest ``limit`` of them), cash and positions decoded."""
        q = "SELECT time_ns, scope, owner, equity, cash, positions FROM equity WHERE time_ns >= ?"
        args: list[Any] = [since_ns]
        if scope is not None:
            q += " AND scope = ?"
            args.append(scope)
        if owner is not None:
            q += " AND owner = ?"
            args.append(owner)
        rows = list(self.db.query(q + " ORDER BY seq DESC LIMIT ?", (*args, limit)))[::-1]
        for r in rows:
            r["cash"], r["positions"] = json.loads(r["cash"]), json.loads(r["positions"])
        return rows

    # -- ctl audit and snapshots -------------------------------------------------------------------------
    def audit(self, who: str, command: str, args: dict[str, Any]) -> None:
        with transaction(self.conn):
            self.conn.execute("INSERT INTO ctl_audit (time_ns, who, command, args) VALUES (?,?,?,?)",
                              (time.time_ns(), who, command, json.dumps(args, sort_keys=True)))

    def snapshot(self, strategy: str, state: dict[str, Any], now_ns: int) -> None:
        with transaction(self.conn):
            self.conn.execute("INSERT INTO snapshots VALUES (?,?,?) ON CONFLICT(strategy) DO UPDATE SET "
                              "time_ns=excluded.time_ns, state=excluded.state", (strategy, now_ns, json.dumps(state)))

    def load_snapshot(self, strategy: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT state FROM snapshots WHERE strategy=?", (strategy,)).fetchone()
        return json.loads(row[0]) if row else None

    def close(self) -> None:
        if self.conn is not None:
            self.absorb()
            self.log.close()
            self.conn.close()
            self.conn = None  # type: ignore[assignment]
