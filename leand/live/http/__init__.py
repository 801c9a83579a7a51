"""The daemon's HTTP side: Prometheus metrics, the JSON API and the live dashboard (see server.py)."""
