"""Shared test set-up: offline model hubs, and locating the optional ../shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# No test may reach a model or dataset hub; these make any accidental attempt fail fast.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture
def shared_data() -> Path:
    """The project's ../shared/data folder; tests that need it skip when it is absent."""
    path = SHARED / "data"
    if not path.is_dir():
        pytest.skip(f"real data folder {path} is absent (it sits beside the checkout in the dev/CI layout)")
    return path
