"""Tests that need ../shared or the shipped weights: skip on a developer's machine, fail in CI (``CI=true``).

CI is where a missing data folder or model file must be noticed, not silently skipped.
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def missing(reason: str) -> None:
    """Skip the test, or fail it in CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: required here)")
    pytest.skip(reason)
