"""LEAN's QuantConnect.Logging: nothing the corpus uses beyond the import."""
