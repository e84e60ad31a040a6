from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def fixture_path():
    """Path of a synthetic file of tests/fixtures (same shape as the official files)."""
    return lambda name: FIXTURES / name
