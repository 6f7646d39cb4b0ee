"""A recorded exchange on 127.0.0.1: ccxt's real code, end to end, against recorded venue answers.

The server speaks HTTPS (a throw-away self-signed certificate) and the client
session resolves every host name to it, so ccxt keeps the venues' real URLs
(``https://fapi.binance.com/fapi/v1/order``): its signing, request building, error
tables chosen by URL, response parsing and error handling all run unchanged. Each
request is recorded (method, host, path, parameters from the query, a form or a JSON
body) and answered by the test's route table, keyed on method and path, whose
handlers answer with JSON files recorded in the venue's format under ``fixtures/``.
"""

from __future__ import annotations

import asyncio
import datetime
import inspect
import json
import socket
import ssl
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class Call:
    """One request as the exchange received it; ``params`` merges query, form and JSON body."""

    method: str
    host: str
    path: str
    params: Mapping[str, Any]
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Reply:
    """An answer: HTTP status, a JSON-able body, and seconds to wait before sending it."""

    payload: Any
    status: int = 200
    delay_s: float = 0.0


Handler = Callable[[Call], Reply | Awaitable[Reply]]
WsHandler = Callable[[Mapping[str, Any]], list[Any]]
"""Answers one JSON message a websocket client sent with the JSON messages to send back, in order."""
WsOpening = Callable[[Mapping[str, str]], list[Any]]
"""Answers a websocket client's connection, given its query parameters, with the JSON messages to send at once
(a venue that pushes without being asked, as Binance's user-data stream)."""


def fixture(venue: str, name: str) -> Any:
    """Return the recorded payload ``fixtures/<venue>/<name>.json``."""
    return json.loads((FIXTURES / venue / f"{name}.json").read_text())


def static(venue: str, name: str, status: int = 200) -> Handler:
    """Return a handler answering every call with the recorded ``fixtures/<venue>/<name>.json``."""
    return lambda call: Reply(fixture(venue, name), status)


@lru_cache(maxsize=1)
def _server_tls() -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "recorded-exchange")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory(prefix="recorded-exchange-") as name:  # ssl loads keys from files only
        folder = Path(name)
        (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        (folder / "key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


class _Loopback(AbstractResolver):
    """Resolves every host name to the recorded exchange's address."""

    def __init__(self, port: int) -> None:
        self._port = port

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        return [ResolveResult(hostname=host, host="127.0.0.1", port=self._port, family=socket.AF_INET,
                              proto=0, flags=socket.AI_NUMERICHOST)]

    async def close(self) -> None:
        return None


@dataclass
class RecordedExchange:
    """Serves ``routes`` over HTTPS on 127.0.0.1 and records every call; use as ``async with``.

    ``session`` is the client session to give ccxt (``create_ccxt_venue(..., session=)``).
    An unrouted request is answered 404 with a body naming it, and recorded. A path in
    ``ws_routes`` upgrades to a websocket (ccxt.pro's streams): each message the client
    sends is recorded as a call with method ``WS`` and answered by the handler's messages;
    the connection itself is recorded as a ``GET`` call with its query parameters and
    answered by the path's ``ws_openings`` messages, if it has any.
    """

    routes: dict[tuple[str, str], Handler]
    ws_routes: dict[str, WsHandler] = field(default_factory=dict)
    ws_openings: dict[str, WsOpening] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    session: aiohttp.ClientSession | None = None
    _runner: web.AppRunner | None = None

    def calls_to(self, method: str, path: str) -> list[Call]:
        """Return the calls received on ``method`` ``path``, oldest first."""
        return [call for call in self.calls if call.method == method and call.path == path]

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        socket_ = web.WebSocketResponse()
        await socket_.prepare(request)
        self.calls.append(Call("GET", request.host, request.path, dict(request.query), dict(request.headers)))
        opening = self.ws_openings.get(request.path)
        for answer in [] if opening is None else opening(request.query):
            await socket_.send_str(json.dumps(answer))
        handler = self.ws_routes.get(request.path)
        async for message in socket_:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            sent = json.loads(message.data)
            self.calls.append(Call("WS", request.host, request.path, sent, dict(request.headers)))
            for answer in [] if handler is None else handler(sent):
                await socket_.send_str(json.dumps(answer))
        return socket_

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        is_websocket = request.path in self.ws_routes or request.path in self.ws_openings
        if is_websocket and request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._websocket(request)
        body = await request.text()
        params: dict[str, Any] = dict(request.query)
        if body:
            if body.lstrip().startswith(("{", "[")):
                loaded = json.loads(body)
                params.update(loaded if isinstance(loaded, dict) else {"body": loaded})
            else:
                params.update(parse_qsl(body, keep_blank_values=True))
        call = Call(request.method, request.host, request.path, params, dict(request.headers))
        self.calls.append(call)
        handler = self.routes.get((request.method, request.path))
        if handler is None:
            return web.json_response({"unrouted": f"{request.method} {request.host}{request.path}"}, status=404)
        reply = handler(call)
        if inspect.isawaitable(reply):
            reply = await reply
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        return web.json_response(reply.payload, status=reply.status)

    @property
    def port(self) -> int:
        """Return the port it listens on, on 127.0.0.1 (once entered)."""
        assert self._runner is not None, "enter the exchange first"
        return self._runner.addresses[0][1]

    async def __aenter__(self) -> RecordedExchange:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=_server_tls())
        await site.start()
        port = self._runner.addresses[0][1]
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=_Loopback(port), ssl=False))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.session is not None:
            await self.session.close()
        if self._runner is not None:
            await self._runner.cleanup()


@contextmanager
def serving(exchange: RecordedExchange) -> Iterator[RecordedExchange]:
    """Serve ``exchange`` from an event loop on a thread of its own, for code that runs its own loops.

    Such code cannot share ``exchange.session`` (a session belongs to its loop): point ccxt
    at ``https://127.0.0.1:<port>`` instead, with ``verify`` off for the self-signed certificate.
    """
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="recorded-exchange", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(exchange.__aenter__(), loop).result(10)
        yield exchange
    finally:
        asyncio.run_coroutine_threadsafe(exchange.__aexit__(None, None, None), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
