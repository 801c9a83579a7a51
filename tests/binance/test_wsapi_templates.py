"""WS API request templates (issue 14): a templated frame carries exactly the signature the generic signer
computes over the same parameters, for every shape and for values that change per order."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from leand.adapters.binance.signing import ws_signature
from leand.adapters.binance.wsapi import RequestTemplates

KEY, SECRET = "k3y", "s3cr3t"


def _check(t: RequestTemplates, params: dict, ts: int) -> None:
    frame = msgspec.json.decode(t.frame("r1", "order.place", params, ts))
    assert frame["id"] == "r1" and frame["method"] == "order.place"
    sent = frame["params"]
    signed = {**params, "apiKey": KEY, "recvWindow": 5000, "timestamp": ts}
    assert {k: str(v) for k, v in sent.items() if k != "signature"} == {k: str(v) for k, v in signed.items()}
    assert sent["signature"] == ws_signature(signed, SECRET)


@given(qty=st.decimals(min_value="0.00001", max_value="1000", places=5),
       price=st.decimals(min_value="0.01", max_value="100000", places=2),
       n=st.integers(0, 10**9), ts=st.integers(1_600_000_000_000, 1_900_000_000_000),
       side=st.sampled_from(["BUY", "SELL"]), limit=st.booleans())
def test_templated_frames_sign_like_the_generic_signer(qty, price, n, ts, side, limit) -> None:
    t = RequestTemplates(KEY, SECRET, 5000)
    p: dict = {"symbol": "BTCUSDT", "side": side, "type": "LIMIT" if limit else "MARKET"}
    if limit:
        p.update(timeInForce="GTC", price=f"{price:.2f}")
    p.update(quantity=f"{qty:.5f}", newClientOrderId=f"s1-1-{n}", newOrderRespType="FULL")
    _check(t, p, ts)
    _check(t, {**p, "newClientOrderId": f"s1-1-{n + 1}"}, ts + 1)  # the same shape again: from the template
    assert len(t) == 1


@given(key=st.binary(min_size=0, max_size=200), data=st.binary(max_size=600))
def test_hmac_with_kept_pads_is_hmac_sha256(key: bytes, data: bytes) -> None:
    import hashlib
    import hmac

    from leand.adapters.binance.wsapi import HmacSha256

    assert HmacSha256(key).hexdigest(data) == hmac.new(key, data, hashlib.sha256).hexdigest()


def test_text_frames_parse_as_masked_client_frames() -> None:
    """What write_now puts on the wire is what a server's parser reads back: one final, masked text frame
    with the payload, at every length encoding (7-bit, 16-bit, 64-bit)."""
    from websockets.frames import Frame, Opcode
    from websockets.streams import StreamReader

    from leand.adapters.binance.wsapi import text_frame

    for n in (0, 1, 125, 126, 4000, 65535, 65536, 70000):
        payload = bytes(range(256)) * (n // 256) + bytes(range(n % 256))
        wire = text_frame(payload)
        reader = StreamReader()
        reader.feed_data(wire)
        parser = Frame.parse(reader.read_exact, mask=True)
        try:
            next(parser)
        except StopIteration as done:
            f = done.value
        assert f.opcode is Opcode.TEXT and f.fin and f.data == payload
        assert wire[1] & 0x80  # masked
    assert text_frame(b"x")[2:6] != text_frame(b"x")[2:6]  # a fresh key per frame
