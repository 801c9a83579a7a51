"""LEAN's .NET namespace, for corpus files that import from it."""
