"""The daemon's write-ahead journal (SQLite in WAL mode, through sqlite-utils).

Order intents are written, with their client order id, before anything is sent; every order event and fill is
written before the engine acts on it; state-changing ctl commands are written with who and when. Commits are
synchronous=NORMAL in WAL mode: durable against a process crash (what SIGKILL tests), one fsync per checkpoint.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from leand.model import Fill, LiquiditySide, Symbol

OPEN_STATES = ("intent", "sent", "accepted", "partially_filled", "pending_cancel")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One atomic write. The connections run in autocommit mode (``isolation_level=None``), where
    ``with conn:`` alone does not open a transaction and every statement commits on its own: a crash
    between two of them would leave half a change (a fill without its order status). ``BEGIN IMMEDIATE``
    makes the block all or nothing."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class Journal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite_utils.Database(path)
        self.db.conn.isolation_level = None  # explicit transactions only
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._create()
        self.conn = self.db.conn

    def _create(self) -> None:
        db = self.db
        if "meta" not in db.table_names():
            db["meta"].create({"key": str, "value": str}, pk="key")
            db["intents"].create({
                "client_order_id": str, "strategy": str, "symbol": str, "quantity": float, "type": str,
                "limit_price": float, "stop_price": float, "time_in_force": str, "tag": str, "status": str,
                "filled": float, "created_ns": int, "updated_ns": int, "boot": int}, pk="client_order_id")
            db["events"].create({"seq": int, "client_order_id": str, "status": str, "time_ns": int, "code": str,
                                 "message": str}, pk="seq")
            db["fills"].create({"venue_fill_id": int, "client_order_id": str, "symbol": str, "quantity": float,
                                "price": float, "fee": float, "fee_currency": str, "liquidity": str, "time_ns": int,
                                "recovered": int}, pk="venue_fill_id")
            db["ctl_audit"].create({"seq": int, "time_ns": int, "who": str, "command": str, "args": str}, pk="seq")
            db["snapshots"].create({"strategy": str, "time_ns": int, "state": str}, pk="strategy")
            db["intents"].create_index(["status"])
        if "equity" not in db.table_names():  # added later: journals from older versions gain it on open
            db["equity"].create({"seq": int, "time_ns": int, "scope": str, "owner": str, "equity": float,
                                 "cash": str, "positions": str}, pk="seq")
            db["equity"].create_index(["scope", "owner", "time_ns"])

    # -- meta -----------------------------------------------------------------------------------------
    def get(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def put(self, key: str, value: Any) -> None:
        with transaction(self.conn):
            self.conn.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                              (key, str(value)))

    def next_boot(self) -> int:
        boot = int(self.get("boot", "0")) + 1
        self.put("boot", boot)
        return boot

    # -- orders -----------------------------------------------------------------------------------------
    def intent(self, cid: str, strategy: str, symbol: Symbol, quantity: float, type_: str, limit: float | None,
               stop: float | None, tif: str, tag: str, now_ns: int, boot: int) -> None:
        with transaction(self.conn):
            self.conn.execute("INSERT INTO intents VALUES (?,?,?,?,?,?,?,?,?,'intent',0,?,?,?)",
                              (cid, strategy, symbol.id, quantity, type_, limit, stop, tif, tag, now_ns, now_ns, boot))

    def set_status(self, cid: str, status: str, now_ns: int, code: str = "", message: str = "") -> None:
        with transaction(self.conn):
            self.conn.execute("UPDATE intents SET status=?, updated_ns=? WHERE client_order_id=?", (status, now_ns, cid))
            self.conn.execute("INSERT INTO events (client_order_id, status, time_ns, code, message) VALUES (?,?,?,?,?)",
                              (cid, status, now_ns, code, message))

    def fill(self, venue_fill_id: int, cid: str, symbol: str, qty: float, price: float, fee: float, fee_ccy: str,
             liquidity: str, time_ns: int, status: str, recovered: bool = False) -> bool:
        """Persist a fill and the order's new status in one transaction; False if already journaled."""
        with transaction(self.conn):
            cur = self.conn.execute("INSERT OR IGNORE INTO fills VALUES (?,?,?,?,?,?,?,?,?,?)",
                                    (venue_fill_id, cid, symbol, qty, price, fee, fee_ccy, liquidity, time_ns,
                                     int(recovered)))
            if cur.rowcount == 0:
                return False
            self.conn.execute("UPDATE intents SET filled = filled + ?, status=?, updated_ns=? WHERE client_order_id=?",
                              (qty, status, time_ns, cid))
            self.conn.execute("INSERT INTO events (client_order_id, status, time_ns, code, message) VALUES "
                              "(?,?,?,'FILL',?)", (cid, status, time_ns, f"{qty:+g} @ {price:g}"))
        return True

    def last_fill_id(self) -> int:
        return self.conn.execute("SELECT COALESCE(MAX(venue_fill_id), 0) FROM fills").fetchone()[0]

    def open_intents(self) -> list[dict]:
        q = f"SELECT * FROM intents WHERE status IN ({','.join('?' * len(OPEN_STATES))}) ORDER BY created_ns"
        return list(self.db.query(q, OPEN_STATES))

    def intents(self) -> list[dict]:
        return list(self.db.query("SELECT * FROM intents ORDER BY created_ns"))

    def fills(self) -> list[Fill]:
        out = []
        for r in self.db.query("SELECT * FROM fills ORDER BY venue_fill_id"):
            out.append(Fill(order_id=0, symbol=Symbol.parse(r["symbol"]), time=r["time_ns"], quantity=r["quantity"],
                            price=r["price"], fee=r["fee"], fee_currency=r["fee_currency"],
                            liquidity=LiquiditySide(r["liquidity"] or "none"), trade_id=r["venue_fill_id"],
                            client_order_id=r["client_order_id"]))
        return out

    def fill_rows(self, strategy: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The newest ``limit`` fills, oldest first, each with the strategy whose intent it filled."""
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
        q, args = "SELECT time_ns, scope, owner, equity, cash, positions FROM equity WHERE time_ns >= ?", [since_ns]
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
        self.conn.close()
