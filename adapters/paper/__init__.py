"""The paper venue adapter: quotes from the in-process simulator's feed, orders to its paper account."""
