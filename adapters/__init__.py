"""Venue adapters. Each has the same inner shape: config, data client, execution client."""
