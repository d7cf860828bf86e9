"""Open-terminal accounting per user across every ASGI process, in Redis.

Each open terminal holds a member of a sorted set scored by its expiry; a crashed process's
entries expire on their own. `claim` refuses beyond the per-user cap.
"""

from __future__ import annotations

import time

import redis.asyncio as aioredis
from django.conf import settings

SLOT_TTL = 120  # seconds; refreshed by the terminal's keepalive
_clients: dict[int, aioredis.Redis] = {}


def _client() -> aioredis.Redis:
    import asyncio

    loop_id = id(asyncio.get_running_loop())
    client = _clients.get(loop_id)
    if client is None:
        client = _clients[loop_id] = aioredis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
    return client


def _key(user_id: int) -> str:
    return f"{settings.BERTH_INSTANCE}:terminals:{user_id}"


async def claim(user_id: int, slot: str, *, limit: int) -> bool:
    now = time.time()
    key = _key(user_id)
    client = _client()
    # Add first, then count: two racing claims can both be refused, never both let past the cap.
    async with client.pipeline(transaction=True) as pipe:
        pipe.zremrangebyscore(key, 0, now)
        pipe.zadd(key, {slot: now + SLOT_TTL})
        pipe.expire(key, SLOT_TTL * 2)
        pipe.zcard(key)
        *_, count = await pipe.execute()
    if count > limit:
        await client.zrem(key, slot)
        return False
    return True


async def refresh(user_id: int, slot: str) -> None:
    await _client().zadd(_key(user_id), {slot: time.time() + SLOT_TTL}, xx=True)


async def release(user_id: int, slot: str) -> None:
    await _client().zrem(_key(user_id), slot)
