"""The ccxt transport: which hosts the sandbox switch reaches, retries of reads, single writes.

Independent truths: the venues' documented test environments (Deribit
test.deribit.com, Binance USD-M demo trading demo-fapi.binance.com, Bybit
api-testnet.bybit.com, OKX's simulated trading header ``x-simulated-trading: 1``)
and counts of the requests the recorded exchange received.
"""

from __future__ import annotations

import asyncio

import pytest
from venues.ccxt.recorded_exchange import Call, RecordedExchange, Reply, fixture
from venues.ccxt.venue_builders import ENVIRONMENT, config_for

from hedgekeeper.errors import RateLimited, VenueRejected, VenueUnavailable
from hedgekeeper.venues.ccxt.client import CcxtClient, build_exchange
from hedgekeeper.venues.ccxt.config import read_credentials

TIME_ROUTES = {
    "deribit": (("GET", "/api/v2/public/get_time"), fixture("deribit", "get_time")),
    "binanceusdm": (("GET", "/fapi/v1/time"), fixture("binanceusdm", "time")),
    "okx": (("GET", "/api/v5/public/time"), fixture("okx", "public_time")),
    "bybit": (("GET", "/v5/market/time"), fixture("bybit", "market_time")),
}


def ask_time(exchange_id: str, handler, **overrides):
    """Return (recorded exchange, outcome): the server time through a client, or the error raised."""
    route, _ = TIME_ROUTES[exchange_id]
    config = config_for(exchange_id, ["ANY"], **overrides)

    async def scenario():
        async with RecordedExchange({route: handler}) as recorded:
            client = CcxtClient(build_exchange(config, read_credentials(config, ENVIRONMENT), recorded.session), config)
            try:
                return recorded, await client.read(f"{exchange_id} fetch_time", client.exchange.fetch_time)
            except (VenueRejected, VenueUnavailable) as error:
                return recorded, error
            finally:
                await client.close()

    return asyncio.run(scenario())


def recorded_time(exchange_id: str):
    return lambda call: Reply(TIME_ROUTES[exchange_id][1])


@pytest.mark.parametrize(("exchange_id", "live_host", "sandbox_host"), [
    ("deribit", "www.deribit.com", "test.deribit.com"),
    ("binanceusdm", "fapi.binance.com", "demo-fapi.binance.com"),
    ("bybit", "api.bybit.com", "api-testnet.bybit.com"),
    ("okx", "www.okx.com", "www.okx.com"),
])
def test_sandbox_switch_reaches_the_venues_test_environment(exchange_id: str, live_host: str,
                                                            sandbox_host: str) -> None:
    live, live_time = ask_time(exchange_id, recorded_time(exchange_id), sandbox=False)
    sandbox, sandbox_time = ask_time(exchange_id, recorded_time(exchange_id), sandbox=True)
    assert live_time == sandbox_time == 1_750_000_000_000
    assert (live.calls[0].host, sandbox.calls[0].host) == (live_host, sandbox_host)
    simulated = [recorded.calls[0].headers.get("x-simulated-trading") for recorded in (live, sandbox)]
    assert simulated == ([None, "1"] if exchange_id == "okx" else [None, None])


def test_read_retries_an_unavailable_venue_then_returns_its_answer() -> None:
    failures = [503, 502]

    def flaky(call: Call) -> Reply:
        return Reply({"message": "service unavailable"}, status=failures.pop(0)) if failures else Reply(
            fixture("deribit", "get_time"))

    recorded, answer = ask_time("deribit", flaky, max_retries=2)
    assert (answer, len(recorded.calls)) == (1_750_000_000_000, 3)


def test_read_gives_up_after_max_retries_with_the_attempt_count() -> None:
    recorded, error = ask_time("deribit", lambda call: Reply(fixture("deribit", "error_too_many_requests"), 429),
                               max_retries=3)
    assert isinstance(error, RateLimited)
    assert "after 4 attempts" in str(error) and "10028" in str(error)
    assert len(recorded.calls) == 4


def test_read_does_not_retry_a_refusal() -> None:
    refusal = {"jsonrpc": "2.0", "error": {"message": "unauthorized", "code": 13009}, "testnet": False}
    recorded, error = ask_time("deribit", lambda call: Reply(refusal, 400), max_retries=3)
    assert type(error) is VenueRejected and "AuthenticationError" in str(error)
    assert len(recorded.calls) == 1


def test_write_is_tried_once_even_when_the_venue_is_unavailable() -> None:
    config = config_for("deribit", ["ANY"], max_retries=3)
    route, _ = TIME_ROUTES["deribit"]

    async def scenario():
        async with RecordedExchange({route: lambda call: Reply({"message": "down"}, status=503)}) as recorded:
            client = CcxtClient(build_exchange(config, read_credentials(config, ENVIRONMENT), recorded.session), config)
            try:
                with pytest.raises(VenueUnavailable, match="ExchangeNotAvailable"):
                    await client.write("deribit fetch_time", client.exchange.fetch_time)
            finally:
                await client.close()
            return recorded

    assert len(asyncio.run(scenario()).calls) == 1


@pytest.mark.parametrize("rate_limit", [True, False])
def test_build_exchange_sets_timeout_rate_limiter_and_credentials(rate_limit: bool) -> None:
    config = config_for("okx", ["BTC-USDT-SWAP"], request_timeout_s=2.5, rate_limit=rate_limit)

    async def scenario():
        exchange = build_exchange(config, read_credentials(config, ENVIRONMENT))
        try:
            return exchange.timeout, exchange.enableRateLimit, exchange.apiKey, exchange.password
        finally:
            await exchange.close()

    assert asyncio.run(scenario()) == (2500, rate_limit, "test-key", "test-passphrase")
