"""The displayed (L2) book against a model of plain dicts sorted on every read: whatever mix of deltas (one by
one, batched, or on the quiet fast path), L1 quotes, our own takes and snapshots, the book's views in price order
(``top``, ``levels``, the best prices and sizes, ``crossed``) are the model's. The book keeps each side's keys
in a sorted list it updates only when a level appears or disappears; this is what would catch a key left behind
or missing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from leand.simulator.l2 import L2Book, apply_deltas, apply_deltas_quiet

PRICES = st.integers(990, 1010).map(lambda t: t / 100)
SIZES = st.sampled_from([0.0, 0.0, 100.0, 250.0, 1e-13])
DELTAS = st.lists(st.tuples(st.sampled_from([1, -1]), PRICES, SIZES), min_size=1, max_size=8)
OPS = st.one_of(
    st.tuples(st.just("delta"), DELTAS),
    st.tuples(st.just("batch"), DELTAS),
    st.tuples(st.just("quiet"), DELTAS, st.sets(st.tuples(st.sampled_from([1, -1]), PRICES), max_size=2)),
    st.tuples(st.just("quote"), st.one_of(st.just(0.0), PRICES), SIZES, st.one_of(st.just(0.0), PRICES), SIZES),
    st.tuples(st.just("take"), st.sampled_from([1, -1]), PRICES, st.sampled_from([50.0, 100.0, 400.0])),
    st.tuples(st.just("snapshot"), st.lists(st.tuples(PRICES, SIZES), max_size=4),
              st.lists(st.tuples(PRICES, SIZES), max_size=4)),
)


class Model:
    """Size by price per side, read in sorted order: the semantics L2Book documents, done the slow way."""

    def __init__(self) -> None:
        self.side: dict[int, dict[float, float]] = {1: {}, -1: {}}

    def set(self, side: int, price: float, size: float) -> None:
        if size > 0:
            self.side[side][price] = size
        else:
            self.side[side].pop(price, None)

    def best(self, side: int) -> float:
        d = self.side[side]
        return (max(d) if side > 0 else min(d)) if d else 0.0

    def quote(self, bid: float, bid_size: float, ask: float, ask_size: float) -> None:
        b, a = self.side[1], self.side[-1]
        if bid > 0:
            for p in [p for p in b if p > bid]:
                del b[p]
            self.set(1, bid, bid_size)
        if ask > 0:
            for p in [p for p in a if p < ask]:
                del a[p]
            self.set(-1, ask, ask_size)
        if bid > 0:
            for p in [p for p in a if p <= bid]:
                del a[p]
        if ask > 0:
            for p in [p for p in b if p >= ask]:
                del b[p]

    def top(self) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        return (sorted(self.side[1].items(), reverse=True), sorted(self.side[-1].items()))


@settings(max_examples=300, deadline=None)
@given(st.lists(OPS, min_size=1, max_size=25))
def test_views_match_a_sorted_model(ops):
    book, model = L2Book("X"), Model()
    seq = 0
    for op in ops:
        kind = op[0]
        if kind in ("delta", "batch", "quiet"):
            deltas = op[1]
            seqs = list(range(seq + 1, seq + 1 + len(deltas)))
            sides, prices, sizes = ([d[i] for d in deltas] for i in range(3))
            if kind == "delta":
                for s, (sd, p, q) in zip(seqs, deltas):
                    assert book.apply_delta(s, sd, p, q)
                n = len(deltas)
            elif kind == "batch":
                n = apply_deltas(book, seqs, sides, prices, sizes)
            else:
                n = apply_deltas_quiet(book, seqs, sides, prices, sizes, 0, op[2]) if book.seq else 0
            for sd, p, q in deltas[:n]:
                model.set(sd, p, q)
            seq += n
        elif kind == "quote":
            book.set_quote(*op[1:])
            model.quote(*op[1:])
        elif kind == "take":
            _, sd, p, q = op
            book.take(sd, p, q)
            left = model.side[sd].get(p, 0.0) - q
            model.set(sd, p, left if left > 1e-12 else 0.0)
        else:
            seq += 1
            book.apply_snapshot(seq, op[1], op[2])
            model.side = {1: {}, -1: {}}
            for sd, levels in ((1, op[1]), (-1, op[2])):
                for p, q in levels:
                    if q > 0:
                        model.side[sd][p] = q
        bids, asks = model.top()
        assert book.top(10**6) == (bids, asks)
        assert (list(book.levels(1)), list(book.levels(-1))) == (bids, asks)
        assert book.best_bid == model.best(1) and book.best_ask == model.best(-1)
        assert book.bid_size == (bids[0][1] if bids else 0.0) and book.ask_size == (asks[0][1] if asks else 0.0)
        assert book.crossed == (bool(bids) and bool(asks) and bids[0][0] >= asks[0][0])
        for sd in (1, -1):
            for p in {d for d in model.side[sd]} | {9.9, 10.1}:
                assert book.depth(sd, p) == model.side[sd].get(p, 0.0)
