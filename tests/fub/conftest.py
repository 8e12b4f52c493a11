"""Fixtures for the FUB client tests."""

from __future__ import annotations

import pytest

from tests.fub.fakes import VirtualClock, new_router


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def router():  # type: ignore[no-untyped-def]
    return new_router()


@pytest.fixture(autouse=True)
def _no_fub_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Settings built in these tests see no FUB_* variables and no .env file from the developer."""
    import os

    for name in list(os.environ):
        if name.upper().startswith("FUB_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
