"""Venue adapters. Each has the same inner shape: config, data client, execution client, message schemas and a
``registration`` module that registers its kind with :mod:`leand.venue`. They depend on leand's model and venue
boundary only."""
