"""The journal's intent log: one copy into the mapped file per record, torn tails cut, crashes recovered, never an id twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leand.live.intentlog import IntentLog, IntentRecord, StatusRecord, read_records
from leand.live.journal import Journal
from leand.model import SecurityType, Symbol

BTC = Symbol("BTCUSD", SecurityType.CRYPTO, "coinbase")


def rec(i: int) -> IntentRecord:
    return IntentRecord(f"s-1-{i}", "s", BTC.id, 0.01 * i, "limit", 100.0 + i, None, "gtc", "", 1_000 + i, 1)


def test_records_round_trip_and_a_torn_tail_ends_the_log(tmp_path: Path) -> None:
    log = IntentLog(tmp_path / "x.log")
    ends = [log.append(rec(i)) for i in range(5)]
    log.append(StatusRecord("s-1-0", "sent", 2_000))
    log.close()
    got = list(read_records(tmp_path / "x.log"))
    assert [r for _, r in got][:5] == [rec(i) for i in range(5)] and got[-1][1].status == "sent"
    assert [e for e, _ in got][:5] == ends
    # a torn last record (power loss mid-write) and a flipped byte each end the readable log there
    raw = (tmp_path / "x.log").read_bytes()
    assert not any(raw[log.size:])  # the file's reserve after the records: zeros, which end the log
    raw = raw[:log.size]
    (tmp_path / "torn.log").write_bytes(raw[:-3])
    assert len(list(read_records(tmp_path / "torn.log"))) == 5
    bad = bytearray(raw)
    bad[ends[2] + 12] ^= 0xFF  # inside record 3's payload
    (tmp_path / "bad.log").write_bytes(bytes(bad))
    assert [r for _, r in read_records(tmp_path / "bad.log")] == [rec(i) for i in range(3)]
    # reading from an offset resumes exactly there
    assert [r for _, r in read_records(tmp_path / "x.log", ends[2])][:2] == [rec(3), rec(4)]


def test_bad_fsync_policy_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fsync policy"):
        IntentLog(tmp_path / "x.log", fsync="sometimes")  # type: ignore[arg-type]


def test_unabsorbed_intents_survive_a_crash_and_a_torn_tail_is_cut(tmp_path: Path) -> None:
    j = Journal(tmp_path / "journal.sqlite")
    j.intent("s-1-1", "s", BTC, 1.0, "limit", 10.0, None, "gtc", "", 1, 1)
    j.set_status("s-1-1", "submitted", 2)
    j.absorb()
    j.intent("s-1-2", "s", BTC, 2.0, "market", None, None, "gtc", "", 3, 1)
    j.set_status("s-1-2", "submitted", 4)
    log_path = j.log.path
    os.close(j.log._fd)  # a crash: nothing absorbed or closed in an orderly way
    j.conn.close()
    with open(log_path, "ab") as f:
        f.write(b"\x40\x00\x00\x00garbage")  # a torn record after the good ones
    j2 = Journal(tmp_path / "journal.sqlite")
    st_ = {i["client_order_id"]: i["status"] for i in j2.intents()}
    assert st_ == {"s-1-1": "submitted", "s-1-2": "submitted"}
    # the torn tail was cut: what is appended now is readable after the recovered records
    j2.set_status("s-1-2", "accepted", 5)
    os.close(j2.log._fd)
    j2.conn.close()
    j3 = Journal(tmp_path / "journal.sqlite")
    assert {i["client_order_id"]: i["status"] for i in j3.intents()}["s-1-2"] == "accepted"
    events = j3.conn.execute("SELECT client_order_id, status FROM events ORDER BY seq").fetchall()
    assert events == [("s-1-1", "submitted"), ("s-1-2", "submitted"), ("s-1-2", "accepted")]  # nothing applied twice
    j3.close()


def test_an_id_is_never_reused_absorbed_or_not(tmp_path: Path) -> None:
    j = Journal(tmp_path / "journal.sqlite")
    j.intent("s-1-1", "s", BTC, 1.0, "limit", 10.0, None, "gtc", "", 1, 1)
    with pytest.raises(sqlite3.IntegrityError):
        j.intent("s-1-1", "s", BTC, 1.0, "limit", 10.0, None, "gtc", "", 1, 1)
    j.absorb()
    with pytest.raises(sqlite3.IntegrityError):
        j.intent("s-1-1", "s", BTC, 1.0, "limit", 10.0, None, "gtc", "", 1, 1)
    j.close()


def test_the_fresh_id_check_without_sqlite_still_refuses_every_reuse(tmp_path: Path) -> None:
    """Ids of the order manager's shape skip the SQLite lookup when above the highest of their prefix; any id at
    or below it, in another shape, or journaled by an earlier run is still checked and refused."""
    def intent(j: Journal, cid: str) -> None:
        j.intent(cid, "s", BTC, 1.0, "limit", 10.0, None, "gtc", "", 1, 1)

    j = Journal(tmp_path / "journal.sqlite")
    for cid in ("s-1-1", "s-1-2", "s-1-10", "s-1-2:1", "s-1-007", "t-1-3", "plain"):
        intent(j, cid)
    j.absorb()
    intent(j, "s-1-11")
    for cid in ("s-1-1", "s-1-2", "s-1-10", "s-1-11", "s-1-2:1", "s-1-007", "t-1-3", "plain"):
        with pytest.raises(sqlite3.IntegrityError):
            intent(j, cid)
    intent(j, "s-1-3")  # below the highest but never used: looked up, accepted
    intent(j, "s-1-7")  # 007 is another id
    j.close()
    # a new run reads the highest from SQLite (and the log) before trusting its prefix
    j2 = Journal(tmp_path / "journal.sqlite")
    for cid in ("s-1-11", "s-1-3", "t-1-3"):
        with pytest.raises(sqlite3.IntegrityError):
            intent(j2, cid)
    intent(j2, "s-1-12")
    assert j2._top["s-1-"] == 12
    j2.close()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a-1-", "a-1-1-", "b-2-", "a-1-5:"]), st.integers(0, 30),
                          st.booleans()), max_size=60))
def test_the_fresh_id_check_agrees_with_sqlite(tmp_path_factory: pytest.TempPathFactory,
                                               ops: list[tuple[str, int, bool]]) -> None:
    j = Journal(tmp_path_factory.mktemp("j") / "journal.sqlite")
    used: set[str] = set()
    for prefix, n, absorb in ops:
        cid = f"{prefix}{n}"
        if cid in used:
            with pytest.raises(sqlite3.IntegrityError):
                j.intent(cid, "s", BTC, 1.0, "limit", 10.0, None, "gtc", "", 1, 1)
        else:
            j.intent(cid, "s", BTC, 1.0, "limit", 10.0, None, "gtc", "", 1, 1)
            used.add(cid)
        if absorb:
            j.absorb()
    assert {i["client_order_id"] for i in j.intents()} == used
    j.close()


def test_rotation_keeps_everything_and_removes_the_old_generation(tmp_path: Path) -> None:
    j = Journal(tmp_path / "journal.sqlite")
    j.ROTATE_BYTES = 2_000
    for i in range(100):
        j.intent(f"s-1-{i}", "s", BTC, 1.0, "limit", 10.0, None, "gtc", "", i, 1)
        if i % 10 == 9:
            j.absorb()
    j.intent("s-1-100", "s", BTC, 1.0, "limit", 10.0, None, "gtc", "", 100, 1)
    gen = j._gen
    assert gen > 1
    os.close(j.log._fd)  # crash with one record unabsorbed in the newest generation
    j.conn.close()
    logs = sorted(p.name for p in tmp_path.glob("journal.intents.*.log"))
    assert logs == [f"journal.intents.{gen}.log"]
    j2 = Journal(tmp_path / "journal.sqlite")
    assert len(j2.intents()) == 101
    j2.close()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=40), st.integers(0, 400))
def test_any_cut_of_the_log_recovers_a_prefix(tmp_path_factory, absorb_at: list[int], cut: int) -> None:
    """Wherever a crash cuts the log, recovery yields exactly the intents whose records are whole."""
    tmp = tmp_path_factory.mktemp("cut")
    j = Journal(tmp / "journal.sqlite")
    n = len(absorb_at)
    ends = []
    for i in range(n):
        j.intent(f"s-1-{i}", "s", BTC, 1.0, "limit", 10.0, None, "gtc", "", i, 1)
        ends.append(j.log.size)
    path = j.log.path
    os.close(j.log._fd)
    j.conn.close()
    size = j.log.size  # the records' end (the file holds reserved zeros after it)
    keep = max(0, size - cut)
    os.truncate(path, keep)
    j2 = Journal(tmp / "journal.sqlite")
    got = [i["client_order_id"] for i in j2.intents()]
    assert got == [f"s-1-{i}" for i in range(n) if ends[i] <= keep]
    j2.close()


def test_sigkill_after_append_loses_nothing(tmp_path: Path) -> None:
    """A real process journals 500 intents and SIGKILLs itself before any absorb or close."""
    script = textwrap.dedent(f"""
        import os, signal
        from leand.live.journal import Journal
        from leand.model import SecurityType, Symbol
        j = Journal(__import__("pathlib").Path({str(tmp_path / "journal.sqlite")!r}))
        sym = Symbol("BTCUSD", SecurityType.CRYPTO, "coinbase")
        for i in range(500):
            j.intent(f"s-1-{{i}}", "s", sym, 1.0, "limit", 10.0, None, "gtc", "", i, 1)
            j.set_status(f"s-1-{{i}}", "submitted", i)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert p.returncode == -signal.SIGKILL, p.stderr
    j = Journal(tmp_path / "journal.sqlite")
    rows = j.intents()
    assert len(rows) == 500 and {r["status"] for r in rows} == {"submitted"}
    j.close()


def test_opening_a_running_journal_leaves_its_log_whole(tmp_path: Path) -> None:
    """A second Journal on a journal another one is appending to (an operator's script beside a running daemon)
    never makes the log shorter than the writer mapped it (a store past the end of the file is a SIGBUS), and
    the writer's records stay readable; a torn record after a crash is still cut."""
    j = Journal(tmp_path / "journal.sqlite")
    for i in range(1, 4):
        j.intent(f"s-1-{i}", "s", BTC, 1.0, "limit", 10.0, None, "gtc", "", i, 1)
    size = j.log.path.stat().st_size
    assert size > j.log.size  # the reserve
    other = Journal(tmp_path / "journal.sqlite")
    assert j.log.path.stat().st_size == size
    assert [i["client_order_id"] for i in other.intents()] == ["s-1-1", "s-1-2", "s-1-3"]
    other.conn.close()
    j.intent("s-1-4", "s", BTC, 1.0, "limit", 10.0, None, "gtc", "", 4, 1)  # still in the mapped file
    assert [r.client_order_id for _, r in read_records(j.log.path)][-1] == "s-1-4"
    end = j.log.size
    j.log._map[end:end + 5] = b"\x40\x00\x00\x00g"  # a torn record after the last whole one  # type: ignore[index]
    os.close(j.log._fd)  # a crash
    j.conn.close()
    j2 = Journal(tmp_path / "journal.sqlite")
    assert len(j2.intents()) == 4 and j2.log.size == end and j2.log.path.stat().st_size >= end
    j2.set_status("s-1-4", "submitted", 5)
    assert [r.status for _, r in read_records(j2.log.path) if isinstance(r, StatusRecord)] == ["submitted"]
    j2.close()
