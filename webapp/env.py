"""Strict readers for environment variables: a bad value stops the process with a clear message."""

import math
import os
import socket

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ImproperlyConfigured(f"{name}={value} is outside {minimum}..{maximum}")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None, maximum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from None
    if not math.isfinite(value):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a finite number")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ImproperlyConfigured(f"{name}={value} is outside {minimum}..{maximum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_seconds_list(name: str, default: list[float]) -> list[float]:
    """A comma-separated list of durations in seconds (e.g. "5,30,300"), each a finite number >= 0."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    values = []
    for item in raw.split(","):
        try:
            value = float(item)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={raw!r}: {item.strip()!r} is not a number of seconds") from None
        if not math.isfinite(value) or value < 0:
            raise ImproperlyConfigured(f"{name}={raw!r}: {item.strip()!r} is not a number of seconds >= 0")
        values.append(value)
    return values


def names_for_bind(host: str) -> list[str]:
    """The host names a server bound to `host` is reached by, beyond localhost: for a wildcard bind
    (0.0.0.0 or ::), this machine's name, its fully qualified name and its addresses."""
    if host not in ("0.0.0.0", "::", "[::]"):
        return [] if host in ("127.0.0.1", "localhost", "::1", "[::1]") else [host]
    names = {socket.gethostname(), socket.getfqdn()}
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            address = str(info[4][0])
            names.add(f"[{address}]" if ":" in address else address)
    except OSError:
        pass  # a machine whose own name does not resolve is reached by the names above
    return sorted(name for name in names if name)
