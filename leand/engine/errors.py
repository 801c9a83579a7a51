"""The engine's one error type, importable by its collaborators without importing the engine."""


class EngineError(Exception):
    """A problem with the strategy's setup (bad symbol, missing data, bad dates): one clear message."""
