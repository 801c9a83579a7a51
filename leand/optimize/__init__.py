"""Parameter sweeps and walk-forward (``leand optimize``).

``space`` parses ``--param`` specs; ``sweep`` runs grid, seeded random and Optuna TPE searches and walk-forward
stages; ``backends`` runs trials on a local process pool or Ray actors (one data reader per worker, from
``worker``); ``store`` streams each finished trial into SQLite so a sweep resumes; ``overfit`` holds the Deflated
Sharpe Ratio and PBO by CSCV; ``results`` and ``report`` write the tables, summary and HTML report.
"""
