"""A running service and a client of its API, shared by the API tests of a module."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pydantic
import pytest
from fastapi.testclient import TestClient
from service.service_builders import TOKEN, service_spec

from hedgekeeper.api.app import create_app
from hedgekeeper.service.runtime import Service


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    running = Service(service_spec(tmp_path_factory.mktemp("api-service")))
    running.start()
    deadline = time.monotonic() + 30
    while running.snapshot.counters.get("fills", 0) < 3 or not running.snapshot.underlyings.get("BTC", {}).get("greeks"):
        assert time.monotonic() < deadline, "the service made no fills in 30 s"
        time.sleep(0.02)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service, pydantic.SecretStr(TOKEN))) as test_client:
        test_client.headers["Authorization"] = f"Bearer {TOKEN}"
        yield test_client


@pytest.fixture(scope="module")
def anonymous(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service, pydantic.SecretStr(TOKEN))) as test_client:
        yield test_client
