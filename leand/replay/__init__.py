"""Session recording and deterministic replay."""
