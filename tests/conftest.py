"""Shared pytest setup: anyio on asyncio only; fub-mcp's files (webhook queue, sandbox) in a temp dir."""

from pathlib import Path

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """FUB_MCP_DATA_DIR for every test (and the processes it starts): nothing lands in the user's home."""
    folder = tmp_path_factory.mktemp("fub-mcp-data")
    monkeypatch.setenv("FUB_MCP_DATA_DIR", str(folder))
    return folder
