"""Binance Spot adapter: market data (combined WebSocket streams, a local L2 book kept from a REST snapshot plus
diffs) and order entry (signed REST orders, the WebSocket API user-data stream, REST reconciliation).

Same inner shape as ``adapters/paper``: config, schemas, signing, data client, execution client. The base URLs
come from the config, so one adapter points at Binance, its testnet, or ``leand sim serve``.
"""
