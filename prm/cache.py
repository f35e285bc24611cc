"""Django's Redis cache backend, with one `redis.Redis` client per connection pool.

Django's own client builds a new `redis.Redis` (and its table of ~170 response callbacks) for every
cache operation; an API request makes several (the token cache, the throttle, the token-address
check), so that alone was a tenth of a millisecond each. A `redis.Redis` is safe to share between
threads: it takes a connection from the pool for each command.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class PooledRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = PooledRedisCacheClient
