"""What every asyncio server (stream or datagram) says about itself: its name and whether it serves."""

from __future__ import annotations

__all__ = ["NamedServer"]


class NamedServer:
    """``name``, ``serving`` and ``str()`` of an asyncio server, read from the ``_name`` and ``_state`` it sets."""

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
