"""Django's PostgreSQL backend, its psycopg pool made to notice a restart all at once.

Django builds psycopg's ``ConnectionPool`` and, with ``CONN_HEALTH_CHECKS``, checks each
connection as it leaves the pool. After the database restarts every idle pooled connection
is dead, and psycopg then waits a growing back-off (1 s, 2 s, ...) between one dead
connection and the next: with a few of them the first request after the restart would time
out, and the service would stay unhealthy for half a minute. Here the first connection that
fails its check makes the pool check all its idle ones at once, replacing the dead: the next
attempt gets a fresh connection, no request fails on a dead one.

Everything else is Django's backend (``ENGINE = "config.postgresql"``; ``vendor`` stays
``postgresql``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg import Connection
from psycopg_pool import ConnectionPool


class SweepingPool(ConnectionPool[Connection[Any]]):
    """A pool whose checkout check, on a dead connection, checks every idle one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, check=self.check_or_sweep, **kwargs)

    def check_or_sweep(self, connection: Connection[Any]) -> None:
        """psycopg's check; when it fails the idle connections died too: sweep them now."""
        try:
            self.check_connection(connection)
        except Exception:
            self.check()
            raise


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's wrapper, pooling through ``SweepingPool``."""

    @property
    def pool(self) -> SweepingPool | None:
        """The process-wide pool of this alias (as Django builds it, with the sweep)."""
        options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == NO_DB_ALIAS or not options:
            return None
        pools: dict[str, Any] = self._connection_pools  # type: ignore[attr-defined]
        if self.alias not in pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True  # Django sets its own mode later on
            pool = SweepingPool(
                kwargs=connect_kwargs,
                open=False,  # opened on first use, as Django does
                configure=self._configure_connection,  # type: ignore[attr-defined]
                **({} if options is True else options),
            )
            pools.setdefault(self.alias, pool)
        shared = pools[self.alias]
        assert isinstance(shared, SweepingPool)
        return shared
