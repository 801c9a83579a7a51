"""Any of ccxt's exchanges as a leand venue (``[venue] kind = "ccxt"``, ``exchange = "<ccxt id>"``).

The same inner shape as every adapter: ``config`` (the ``[venue]`` section), ``markets`` (what ccxt's market
definitions and ``has`` table mean for leand), ``exchange`` (building the ccxt instance: credentials by
reference, ``urls`` overrides, rate limiting), ``data`` (the data client), ``execution`` (the execution client)
and ``registration``. ccxt does the exchange's protocol; this adapter keeps leand's guarantees on top of it:
the intent journaled before the request, a lost answer looked up by client order id and never resent, own-order
updates from the exchange's stream reconciled over REST at start and after every reconnect.
"""
