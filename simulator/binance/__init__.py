"""The simulated exchange as a network venue speaking the Binance Spot protocol (``leand sim serve``).

An unmodified Binance client (ccxt sync/async/pro, or leand's own adapter) trades against it over loopback:
REST ``/api/v3/*``, market streams on ``/ws/<stream>`` and ``/stream?streams=``, the WebSocket API on
``/ws-api/v3`` (``userDataStream.subscribe.signature`` delivers ``executionReport``,
``outboundAccountPosition`` and ``balanceUpdate``), and the legacy listenKey flow. Orders match in the L3
``leand.simulator.book.OrderBook`` against a seeded synthetic crowd (a market maker's ladder plus random takers),
so fills, depth diffs and the tape are all one book. Wire details: ``docs/binance-subset.md``.

Defaults (no config file)
-------------------------
* ``leand sim serve`` listens on ``127.0.0.1:8765`` (``--port 0``: an ephemeral port, printed at start).
  Loopback only unless ``--host`` says otherwise. HTTP and WS share the port:
  ``http://127.0.0.1:8765/api/v3``, ``ws://127.0.0.1:8765/ws``, ``ws://127.0.0.1:8765/ws-api/v3``.
* Symbols: ``BTCUSDT`` (tick 0.01, step 0.00001, min notional 5, start 60000), ``ETHUSDT`` (tick 0.01,
  step 0.0001, min notional 5, start 3000), ``ETHBTC`` (tick 0.00001, step 0.0001, min notional 0.0001,
  start 0.05). Filters: PRICE_FILTER, LOT_SIZE, NOTIONAL (applyMinToMarket), MAX_NUM_ORDERS (200).
* One account. API key ``leandSimKey0000000000000000000000000000000000000000000000000001``, secret
  ``leandSimSecret000000000000000000000000000000000000000000000000001`` (test credentials, not secrets;
  override with env ``LEAND_SIM_API_KEY`` / ``LEAND_SIM_API_SECRET`` or ``[[accounts]]`` in the config).
  Starts with 100000 USDT, 1 BTC, 10 ETH. Fees 0.1% maker and taker, taken from the asset received.
* Seed 1 (``--seed``); the crowd steps 10 times a second per symbol (``generator.rate_hz``) after 50
  warm-up steps, so the tape, tickers and klines are not empty. Self-trade prevention: EXPIRE_TAKER.
* Weight limit 6000/min per IP (``limits.weight_per_minute``); 429 + ``Retry-After`` with -1003 beyond it,
  418 after 20 refusals in a minute. Every response carries ``X-MBX-USED-WEIGHT-1M``.

Config (TOML, every key optional): top-level ``host``, ``port``, ``seed``, ``maker_fee``, ``taker_fee``,
``stp_mode``, ``control``; ``[[symbols]]`` (symbol, base, quote, tick_size, min_price, max_price, step_size,
min_qty, max_qty, min_notional, max_notional, max_num_orders, start_price, half_spread_ticks, level_ticks,
levels, level_qty, volatility); ``[[accounts]]`` (api_key, api_secret, balances = {ASSET = "amount"});
``[generator]`` (source = "synthetic" | "lean" | "l2d", rate_hz, trade_prob, warmup_steps, tape_rate_hz,
tape_interval_ms, lean_dir, lean_date, lean_speed: ``tape_rate_hz = N`` adds N trade prints a second per symbol at
the touch that leave the book as it is, a load source for tens of thousands of messages a second
(``simulator/binance/tape.py``), written every ``tape_interval_ms`` (default 1, 1..1000) as they come due; with ``source = "lean"`` each symbol's mid follows LEAN crypto minute quotes, BTCUSDT reading
``<lean_dir>/btcusd/<lean_date>_quote.zip``; lean_dir defaults to the shipped
``data/lean/crypto/coinbase/minute``, lean_date to the first day there, lean_speed = 60 replays a minute per
second; every configured symbol needs data, so list only those, e.g. BTCUSDT and ETHUSDT; with
``source = "l2d"`` each symbol's mid follows the touch of a leand book recording, ``l2d_files = {BTCUSDT =
"btc.l2d"}``, made for instance from LEAN ticks by ``leand data l2-from-lean``; ``history_minutes = N`` and
``history_end = "2024-01-08T00:00:00Z"`` serve N seeded synthetic 1-minute klines before the live ones, so
``GET /api/v3/klines`` pages through a long history, as ``leand data download`` does); ``[limits]`` (weight_per_minute, ban_after_429s, ban_seconds,
orders_per_10s, orders_per_day); ``[faults]`` (as below, armed at start).

Fault injection and control (``/_sim/*``: loopback callers with a known ``X-MBX-APIKEY`` header only)
------------------------------------------------------------------------------------------------------
``POST /_sim/faults`` with a JSON object, any of:
* ``{"http_status": 429|503|500|418, "http_count": N, "http_mode": "before"|"after"}``: the next N REST
  requests get that status with Binance's error body (``after``: the request is executed first and its
  answer lost, i.e. "execution status unknown").
* ``{"drop_http": N}``: abort the TCP connection of the next N REST requests without an answer.
* ``{"delay_ms": D, "delay_count": N}``: delay the next N REST responses (-1: all) by D ms (after executing).
* ``{"skip_depth_ids": K, "symbols": ["BTCUSDT"]}``: the next diff-depth event skips K update ids (a gap).
* ``{"drop_ws": true}`` (TCP abort) or ``{"drop_ws": "close"}`` (close frame 1001): drop every WebSocket.
* ``{"reset_weights": true}``, ``{"weight_per_minute": N}``.
``GET /_sim/faults`` shows the armed faults; ``GET /_sim/stats`` the messages published, the most bytes a
client has left unread (``max_buffered``; past 16 MiB a client is dropped as a slow consumer, as Binance
does) and the requests served per path. ``POST /_sim/deposit {"asset": "USDT", "amount": "100"}``
credits the account (``balanceUpdate`` + ``outboundAccountPosition``). ``POST /_sim/step {"n": 5}`` runs
crowd steps and flushes the timed streams.

Programmatic use
----------------
``srv = await start_server(cfg=None, host="127.0.0.1", port=0, seed=None)`` (``srv.url``, ``srv.ws_url``,
``srv.api_key``, ``srv.api_secret``, ``srv.exchange``, ``srv.step(n)``, ``srv.flush()``,
``await srv.close()``), or ``ThreadedServer(cfg)`` for synchronous code (``.server``, ``.call(fn)``,
``.stop()``). ``load_config(path)`` reads a TOML file; ``SimConfig`` is the schema.
"""

from .app import SimServer, ThreadedServer, serve, start_server
from .config import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    DEFAULT_PORT,
    ConfigError,
    SimConfig,
    finalize,
    load_config,
)

__all__ = ["DEFAULT_API_KEY", "DEFAULT_API_SECRET", "DEFAULT_PORT", "ConfigError", "SimConfig", "SimServer",
           "ThreadedServer", "finalize", "load_config", "serve", "start_server"]
