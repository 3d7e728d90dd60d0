"""What every asyncio server (stream or datagram) shares: its name, whether it serves, ``async with``."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["NamedServer"]


class NamedServer:
    """``name``, ``serving``, ``str()`` and ``async with`` of an asyncio server, from its ``_name`` and ``_state``.

    A subclass defines ``start()`` and ``stop(timeout)``.
    """

    __slots__ = ()

    _name: str
    _state: str  # "ready", "serving", "stopping" or "stopped"

    @property
    def name(self) -> str:
        """The server's name: the prefix of its log records (and of a datagram server's task names)."""
        return self._name

    @property
    def serving(self) -> bool:
        """True from :meth:`start` or :meth:`serve_forever` until :meth:`stop`."""
        return self._state == "serving"

    def __str__(self) -> str:
        return self._name

    if TYPE_CHECKING:  # what every subclass defines, for the methods below

        async def start(self) -> Self: ...

        async def stop(self, timeout: float | None = 5.0) -> None: ...

    async def __aenter__(self) -> Self:
        if self._state == "ready":
            await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
