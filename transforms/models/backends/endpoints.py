"""The servers a streaming client sends to: several endpoints, health checks, failover.

An :class:`EndpointPool` holds one ``httpx.AsyncClient`` per base URL (``base_url``
and ``base_urls``). :meth:`EndpointPool.pick` spreads the samples over the endpoints
that are up (by the sample's seed, so the spread never depends on timing) and sends a
retry to the next one up (failover). An endpoint that fails with a connection error,
a timeout or a 5xx is taken out for ``down_s`` seconds; with ``health_check_s`` > 0 a
background task asks every endpoint for ``GET /models`` (every OpenAI-compatible
server answers it) at that period and puts an endpoint back (or takes it out) by the
answer. When every endpoint is out, the samples still go to them in turn (the retry
policy decides when to give up), so a server restarted mid-run costs time, not rows.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Dict, List, Optional, Sequence

from transforms.core.redact import redact_urls

logger = logging.getLogger(__name__)


class Endpoint:
    """One base URL and its client; ``down_until``: out of the rotation until then."""

    def __init__(self, url: str, client) -> None:
        self.url = url
        self.client = client
        self.down_until = 0.0
        self.sent = 0
        self.failed = 0

    def up(self, now: float) -> bool:
        return now >= self.down_until

    def __repr__(self) -> str:
        return f"Endpoint({redact_urls(self.url)!r})"


class EndpointPool:
    def __init__(self, urls: Sequence[str], headers: Dict[str, Any], timeout_s: float, window: int,
                 health_check_s: float = 0.0, down_s: float = 5.0) -> None:
        import httpx

        if not urls:
            raise ValueError("base_url: at least one endpoint is required")
        limits = httpx.Limits(max_connections=window, max_keepalive_connections=window)
        self.endpoints = [Endpoint(url.rstrip("/"), httpx.AsyncClient(
            base_url=url.rstrip("/"), headers=headers, timeout=httpx.Timeout(timeout_s), limits=limits))
            for url in urls]
        self.health_check_s = health_check_s
        self.down_s = down_s
        self._health: Optional[asyncio.Task] = None

    def start(self) -> None:
        """Start the health checks (on the running loop) when they are on."""
        if self.health_check_s > 0 and len(self.endpoints) > 1:
            self._health = asyncio.get_running_loop().create_task(self._check_forever())

    def pick(self, seed: int, attempt: int) -> Endpoint:
        """The endpoint of a sample's ``attempt``: the seed's endpoint among those up, and
        each retry the next one (every endpoint in turn when none is up)."""
        now = time.monotonic()
        live = [e for e in self.endpoints if e.up(now)] or self.endpoints
        return live[(seed + attempt) % len(live)]

    def mark_down(self, endpoint: Endpoint) -> None:
        endpoint.failed += 1
        if len(self.endpoints) > 1:
            endpoint.down_until = time.monotonic() + self.down_s

    async def check(self) -> List[bool]:
        """Ask every endpoint for ``/models`` once; an answer below 500 puts it back."""
        async def one(endpoint: Endpoint) -> bool:
            try:
                response = await endpoint.client.get("/models", timeout=5.0)
                ok = response.status_code < 500
            except Exception:  # noqa: BLE001 - any failure: down
                ok = False
            if ok:
                endpoint.down_until = 0.0
            elif endpoint.up(time.monotonic()):
                logger.warning("sample: endpoint %s failed its health check; out of the rotation",
                               redact_urls(endpoint.url))
                endpoint.down_until = time.monotonic() + max(self.down_s, self.health_check_s)
            return ok
        return list(await asyncio.gather(*[one(e) for e in self.endpoints]))

    async def _check_forever(self) -> None:
        while True:
            await asyncio.sleep(self.health_check_s)
            await self.check()

    async def close(self) -> None:
        if self._health is not None:
            self._health.cancel()
        for endpoint in self.endpoints:
            await endpoint.client.aclose()
