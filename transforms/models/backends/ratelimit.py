"""Requests-per-minute and tokens-per-minute limits for the server client.

A :class:`TokenBucket` holds up to ``per_minute / 60 * burst_s`` units (at least one
request's worth) and refills continuously at ``per_minute / 60`` units a second; a
:class:`RateLimiter` takes one request and its estimated tokens (prompt + ``max_tokens``)
from its two buckets before a request is sent, and gives back the tokens a response
did not use. Each bucket lives on the client's event loop (no locks); the clock is
injectable for tests.
"""
from __future__ import annotations

import asyncio
import time
from typing import Callable, Optional

#: Seconds of the rate a bucket may spend at once (a burst).
BURST_S = 1.0


class TokenBucket:
    """``per_minute`` units a minute, at most ``capacity`` at once (0: no limit)."""

    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic,
                 burst_s: float = BURST_S):
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate * burst_s)
        self.level = self.capacity
        self.clock = clock
        self.updated = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now

    def wait_s(self, amount: float) -> float:
        """Seconds until ``amount`` can be taken (0: now). An amount over the capacity
        waits for a full bucket and takes it into debt, so no request is refused."""
        if self.rate <= 0:
            return 0.0
        self._refill()
        need = min(amount, self.capacity)
        return 0.0 if self.level >= need else (need - self.level) / self.rate

    def take(self, amount: float) -> None:
        if self.rate > 0:
            self._refill()
            self.level -= amount

    def give_back(self, amount: float) -> None:
        if self.rate > 0 and amount > 0:
            self._refill()
            self.level = min(self.capacity, self.level + amount)


class RateLimiter:
    """Both limits of a client (``0``: that limit is off)."""

    def __init__(self, requests_per_minute: float = 0, tokens_per_minute: float = 0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Optional[Callable[[float], object]] = None):
        self.requests = TokenBucket(requests_per_minute, clock)
        self.tokens = TokenBucket(tokens_per_minute, clock)
        self._sleep = sleep or asyncio.sleep

    async def acquire(self, tokens: int) -> None:
        """Wait until one request and ``tokens`` fit both limits, then take them."""
        while True:
            wait = max(self.requests.wait_s(1), self.tokens.wait_s(tokens))
            if wait <= 0:
                self.requests.take(1)
                self.tokens.take(tokens)
                return
            await self._sleep(wait)  # type: ignore[misc]

    def settle(self, reserved: int, used: int) -> None:
        """A response used ``used`` of the ``reserved`` tokens: the rest goes back."""
        self.tokens.give_back(reserved - used)
