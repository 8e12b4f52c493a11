"""One client (one connection pool, one rate budget) per API key."""

from __future__ import annotations

import pytest

from fub_mcp.config import Settings
from fub_mcp.fub import ClientPool, ConfigError
from tests.fub.fakes import API_KEY

anyio_mark = pytest.mark.anyio


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@anyio_mark
async def test_the_pool_gives_one_client_per_key() -> None:
    async with ClientPool(_settings(api_key=API_KEY)) as pool:
        default = pool.get()
        assert pool.get(API_KEY) is default
        other = pool.get("another-key")
        assert other is not default
        assert pool.get("another-key") is other
        assert len(pool) == 2


@anyio_mark
async def test_the_pool_never_keeps_or_shows_the_key_itself() -> None:
    pool = ClientPool(_settings(api_key=API_KEY))
    client = pool.get()
    assert API_KEY not in repr(pool)
    assert all(API_KEY not in key for key in pool._clients)
    assert API_KEY not in repr(client)
    await pool.aclose()
    assert client._http.is_closed
    assert len(pool) == 0


@anyio_mark
async def test_the_pool_passes_overrides_to_every_client() -> None:
    async with ClientPool(_settings(api_key=API_KEY), max_retries=0, rate_limits={"global": 3}) as pool:
        for key in (API_KEY, "second"):
            assert (await pool.get(key).limiter.limit_for("global")).limit == 3


def test_the_pool_without_any_key_is_a_config_error() -> None:
    pool = ClientPool(_settings())
    with pytest.raises(ConfigError):
        pool.get()
    with pytest.raises(ConfigError):
        pool.get("")
