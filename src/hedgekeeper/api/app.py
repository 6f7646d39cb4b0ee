"""The FastAPI application: the running service's state, its controls, the live stream, metrics and dashboard.

Every ``/api`` endpoint and ``/metrics`` require the bearer token; the dashboard's
page, script and style (``/``, ``/static/...``) carry no data and do not. Reads come
from the service's latest ``ServiceSnapshot`` (never blocking the engine) or from the
store (history, configuration versions, an order's transitions). Controls (pause,
resume, kill switch, bands) go to the engine's thread as commands and answer once
applied. Bad input is a 4xx naming what is wrong: 422 for an invalid body, 404 for
an unknown underlying or order, 409 when the service is not running.
"""

from __future__ import annotations

import asyncio
import math
from importlib import resources
from typing import Any, Literal

import pydantic
from fastapi import Depends, FastAPI, HTTPException, Query, status
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from hedgekeeper.api import schemas
from hedgekeeper.api.auth import token_check
from hedgekeeper.api.stream import events
from hedgekeeper.errors import ConfigError, HedgekeeperError
from hedgekeeper.policy.risk_profile import RiskProfile
from hedgekeeper.service.runtime import Service
from hedgekeeper.service.snapshot import ServiceSnapshot

COMMAND_TIMEOUT_S = 30.0


def _clean(value: Any) -> Any:
    """Return ``value`` with non-finite floats as None (JSON has no infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def create_app(service: Service, token: pydantic.SecretStr) -> FastAPI:
    """Return the API of ``service``, behind ``token``.

    Parameters
    ----------
    service : the running (or starting) Service
    token : the bearer token every ``/api`` endpoint requires
    """
    app = FastAPI(
        title="hedgekeeper", version="0.1.0",
        description="The live service: the book's Greeks against their bands, positions, orders, fills, decisions "
                    "with reasons, costs, the configuration in force; pause, resume, kill switch and band changes "
                    "at run time; a live stream; Prometheus metrics. Times are ns since the epoch (UTC).",
    )
    auth = [Depends(token_check(token))]
    static = resources.files("hedgekeeper.api") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    async def command(name: str, **arguments: Any) -> Any:
        future = service.submit(name, **arguments)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), COMMAND_TIMEOUT_S)
        except ConfigError as error:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
        except HedgekeeperError as error:
            raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
        except TimeoutError:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                                f"the engine did not answer {name} within {COMMAND_TIMEOUT_S:g} s") from None

    def underlyings() -> dict[str, Any]:
        return _clean(dict(service.snapshot.underlyings))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def dashboard() -> str:
        return (static / "dashboard.html").read_text()

    @app.get("/healthz", tags=["service"], summary="Liveness, without a token")
    def healthz() -> dict[str, str]:
        return {"status": service.snapshot.status}

    @app.get("/api/status", response_model=schemas.Status, dependencies=auth, tags=["service"],
             summary="Where the service stands")
    def get_status() -> dict[str, Any]:
        s = service.snapshot
        return _clean({"name": s.name, "status": s.status, "engine_ns": s.engine_ns, "speed": s.speed,
                       "paused": s.paused, "kill_switch": s.kill_switch, "config_version": s.config_version,
                       "hedging": s.hedging, "counters": dict(s.counters), "recovery": dict(s.recovery)})

    @app.get("/api/portfolio", response_model=schemas.Portfolio, dependencies=auth, tags=["book"],
             summary="Positions, balances, Greeks per underlying and costs")
    def get_portfolio() -> dict[str, Any]:
        s = service.snapshot
        return _clean({"engine_ns": s.engine_ns, "positions": s.positions, "balances": s.balances,
                       "underlyings": dict(s.underlyings), "costs": dict(s.costs)})

    @app.get("/api/greeks", response_model=schemas.GreeksReport, dependencies=auth, tags=["book"],
             summary="Greeks per underlying against their bands")
    def get_greeks(history: bool = Query(False, description="include the recent samples")) -> dict[str, Any]:
        s = service.snapshot
        return _clean({"engine_ns": s.engine_ns, "underlyings": dict(s.underlyings),
                       "history": dict(s.history) if history else {}})

    @app.get("/api/positions", dependencies=auth, tags=["book"], summary="Positions, signed contracts")
    def get_positions() -> list[dict[str, Any]]:
        return _clean(service.snapshot.positions)

    @app.get("/api/orders", dependencies=auth, tags=["orders"],
             summary="Open orders (default) or the latest orders of every state")
    def get_orders(state: str = Query("open", pattern="^(open|all)$"),
                   limit: int = Query(100, ge=1, le=5000)) -> list[dict[str, Any]]:
        if state == "open":
            return service.snapshot.open_orders[:limit]
        return [{k: getattr(o, k) for k in o.__slots__} for o in service.store.orders(limit=limit)]

    @app.get("/api/orders/{client_order_id}/transitions", dependencies=auth, tags=["orders"],
             summary="Every transition of one order")
    def get_transitions(client_order_id: str) -> list[dict[str, Any]]:
        rows = service.store.transitions(client_order_id)
        if not rows and not any(o.client_order_id == client_order_id for o in service.store.orders()):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no order {client_order_id!r}")
        return rows

    @app.get("/api/fills", dependencies=auth, tags=["orders"], summary="The latest fills, newest first")
    def get_fills(limit: int = Query(100, ge=1, le=5000)) -> list[dict[str, Any]]:
        return [_clean({k: getattr(f, k) for k in f.__slots__}) for f in service.store.fills(limit)]

    @app.get("/api/decisions", dependencies=auth, tags=["decisions"],
             summary="The latest decisions with their reasons, newest first")
    def get_decisions(limit: int = Query(100, ge=1, le=5000)) -> list[dict[str, Any]]:
        return _clean(service.store.decisions(limit))

    @app.get("/api/costs", response_model=schemas.Costs, dependencies=auth, tags=["book"],
             summary="Costs paid so far, USD")
    def get_costs() -> dict[str, Any]:
        return dict(service.snapshot.costs)

    @app.get("/api/config", dependencies=auth, tags=["configuration"],
             summary="The configuration in force (no secret: only where secrets come from)")
    def get_config() -> dict[str, Any]:
        latest = service.store.latest_config()
        return _clean({"version": service.snapshot.config_version, "profile": dict(service.snapshot.profile),
                       "document": None if latest is None else latest["document"]})

    @app.get("/api/config/versions", dependencies=auth, tags=["configuration"],
             summary="Every configuration version: the file's, then each band change")
    def get_versions() -> list[dict[str, Any]]:
        return [{k: v for k, v in row.items() if k != "document"} for row in service.store.config_versions()]

    @app.put("/api/bands/{underlying}", response_model=schemas.BandChangeResult, dependencies=auth,
             tags=["configuration"], summary="Change one underlying's bands (validated, versioned)")
    async def put_bands(underlying: str, bands: schemas.BandChange) -> Any:
        hedged = list(service.snapshot.underlyings) or [f.underlying for f in service.spec.feeds()]
        if underlying not in hedged:
            raise HTTPException(status.HTTP_404_NOT_FOUND,
                                f"unknown underlying {underlying!r}; hedged: {', '.join(hedged)}")
        document = dict(service.snapshot.profile) | {
            underlying: bands.model_dump(mode="json", exclude_none=True)}
        try:
            profile = RiskProfile.model_validate(document)
        except pydantic.ValidationError as error:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
        return await command("set_bands", profile=profile, source=f"api: bands of {underlying}")

    async def control(name: str, **arguments: Any) -> dict[str, Any]:
        result = await command(name, **arguments)
        s = service.snapshot
        return {"paused": s.paused, "kill_switch": s.kill_switch, "cancelled": result.get("cancelled", 0)}

    @app.post("/api/pause", response_model=schemas.ControlResult, dependencies=auth, tags=["controls"],
              summary="Stop deciding (market data and valuation go on)")
    async def pause() -> dict[str, Any]:
        return await control("pause")

    @app.post("/api/resume", response_model=schemas.ControlResult, dependencies=auth, tags=["controls"],
              summary="Decide again")
    async def resume() -> dict[str, Any]:
        return await control("resume")

    @app.post("/api/kill-switch", response_model=schemas.ControlResult, dependencies=auth, tags=["controls"],
              summary="Refuse every order and cancel the working ones")
    async def kill(request: schemas.KillSwitchRequest) -> dict[str, Any]:
        return await control("kill", reason=request.reason)

    @app.delete("/api/kill-switch", response_model=schemas.ControlResult, dependencies=auth, tags=["controls"],
                summary="Let orders through the safety limits again")
    async def release() -> dict[str, Any]:
        return await control("release")

    def component_view(snapshot: ServiceSnapshot, name: str, absent: str) -> dict[str, Any]:
        """Return the component ``name``'s view in ``snapshot``; 404 with ``absent`` when it does not run."""
        view = snapshot.components.get(name)
        if view is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, absent)
        return dict(view)

    @app.get("/api/chain", dependencies=auth, tags=["chain"],
             summary="The chain: oracle, every vault's check(), the keeper's latest decisions and transactions")
    def get_chain() -> dict[str, Any]:
        return _clean(component_view(service.snapshot, "chain", "the chain is not enabled ([chain] enabled = false)"))

    @app.get("/api/market", dependencies=auth, tags=["market"],
             summary="The live market's streams: events so far, the last one's venue time, reopenings, the last "
                     "error, book snapshots coalesced")
    def get_market() -> dict[str, Any]:
        snapshot = service.snapshot  # one snapshot: the streams' times and the engine time they are read against
        streams = component_view(snapshot, "live_market", "the market is simulated or replayed ([live] absent)")
        return _clean({"engine_ns": snapshot.engine_ns, "streams": streams})

    @app.get("/api/chain/records", dependencies=auth, tags=["chain"],
             summary="The chain's stored records, newest first: keeper decisions and transactions, oracle submissions")
    def get_chain_records(kind: Literal["keeper_decision", "keeper_transaction", "oracle_submission"] | None = None,
                          limit: int = Query(100, ge=1, le=5000)) -> list[dict[str, Any]]:
        return _clean(service.store.chain_records(kind, limit))

    @app.get("/api/stream", dependencies=auth, tags=["stream"],
             summary="Server-sent events: greeks, decision, fill",
             response_class=StreamingResponse)
    async def stream(max_events: int | None = Query(None, ge=1, description="end after this many events")
                     ) -> StreamingResponse:
        return StreamingResponse(events(lambda: service.snapshot, max_events=max_events),
                                 media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    @app.get("/metrics", dependencies=auth, tags=["service"], summary="Prometheus metrics",
             response_class=Response)
    def metrics() -> Response:
        return Response(service.metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return app
