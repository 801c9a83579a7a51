"""Suite-wide settings.

Hypothesis runs without its per-example deadline: a deadline is a timing assertion, and on a shared 2-core
machine a slow example is load, not a bug (what a test checks is the property, never the speed)."""

from hypothesis import settings

settings.register_profile("leand", deadline=None)
settings.load_profile("leand")
