"""LEAN's module name, for the LEAN framework files the corpus imports unchanged (Alphas/, Portfolio/)."""

from leand.algorithm_imports import *  # noqa: F403
