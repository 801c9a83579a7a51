"""The self-contained HTML backtest report."""
