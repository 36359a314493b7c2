"""Typed, prefixed settings of the phone sign-in app with their defaults.

Each app declares its settings once, as :class:`Setting` fields of an :class:`AppSettings`
subclass: the name (``PHONE_AUTH_`` + the field's name), the default, how a value is read
into its type, how it is written as one line of text, and what it means. The settings are
read lazily (each attribute looks at ``django.conf.settings`` when used) so that a host
project can set only what it wants and tests can use ``override_settings``.
"""

from __future__ import annotations

import copy
import ipaddress
import weakref
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, ClassVar, Generic, TypeVar, overload

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK = "loopback"
TRUE_WORDS = ("true", "on", "ok", "y", "yes", "1")

T = TypeVar("T")
V = TypeVar("V")


# --- Reading a setting's value as text (one line, e.g. from a process environment) ----------


def flag(text: str) -> bool:
    """``true``/``on``/``yes``/``1`` (any case) is true; anything else false."""
    return text.strip().lower() in TRUE_WORDS


def words(text: str) -> list[str]:
    """Comma-separated items, blanks dropped."""
    return [item.strip() for item in text.split(",") if item.strip()]


def expose_mode(text: str) -> bool | str:
    """``loopback``, or a :func:`flag`."""
    return LOOPBACK if text.strip().lower() == LOOPBACK else flag(text)


def per_window(text: str, window: int | None = None) -> tuple[int, int]:
    """``count/seconds``, or ``count`` alone when ``window`` gives the seconds."""
    count, slash, seconds = text.strip().partition("/")
    if not slash and window is None:
        raise ValueError(f"{text!r} is not count/seconds")
    return (int(count), int(seconds) if slash else int(window or 0))


class Entries(Generic[V]):
    """A mapping written as ``key=value,key=value``; :meth:`entry` reads one value."""

    def __init__(self, entry: Callable[[str, str], V], key: Callable[[str], str] = str) -> None:
        self.entry = entry
        self.key = key

    def __call__(self, text: str) -> dict[str, V]:
        result: dict[str, V] = {}
        for item in words(text):
            key, equals, value = item.partition("=")
            if not equals or not key.strip():
                raise ValueError(f"{item!r} is not key=value")
            result[self.key(key.strip())] = self.entry(key.strip(), value.strip())
        return result


def limits_text(defaults: Mapping[str, tuple[int, int]]) -> Entries[tuple[int, int]]:
    """Budgets as ``name=count`` (the default window) or ``name=count/seconds``."""
    return Entries(
        lambda name, text: per_window(text, defaults[name][1] if name in defaults else None)
    )


# --- The declaration -----------------------------------------------------------------------


class Setting(Generic[T]):
    """One setting of an app: read from ``django.conf.settings`` once, again after a change.

    The value read is kept until Django says a setting changed (``setting_changed``, sent by
    ``override_settings`` and the test ``settings`` fixture), as DRF keeps its settings:
    a send reads about fifteen settings, each 1-8 µs through the lazy settings object and its
    reader against 0.3 µs kept.
    """

    name: str
    """The Django setting, with the app's prefix (``PHONE_AUTH_CODE_TTL``)."""

    def __init__(
        self,
        default: object,
        read: Callable[[Any], T],
        *,
        text: Callable[[str], object],
        doc: str,
        default_setting: str | None = None,
    ) -> None:
        self.default = default
        self.read = read
        self.text = text
        self.doc = doc
        self.default_setting = default_setting

    def __set_name__(self, owner: type[AppSettings], attribute: str) -> None:
        self.attribute = attribute
        self.name = owner.prefix + attribute

    def raw(self) -> object:
        """The value as set in the project, or the default."""
        if hasattr(settings, self.name):
            return getattr(settings, self.name)
        if self.default_setting:
            return getattr(settings, self.default_setting)
        return copy.deepcopy(self.default)

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Setting[T]: ...

    @overload
    def __get__(self, instance: AppSettings, owner: type[Any]) -> T: ...

    def __get__(self, instance: AppSettings | None, owner: type[Any]) -> Setting[T] | T:
        if instance is None:
            return self
        values = instance.__dict__.setdefault("_values", {})
        try:
            value: T = values[self.attribute]
        except KeyError:
            value = values[self.attribute] = self.read(self.raw())
        return value


class AppSettings:
    """The settings of one app, each named with :attr:`prefix`."""

    prefix: ClassVar[str] = ""

    def __init__(self) -> None:
        _instances.add(self)

    def forget(self) -> None:
        """Read every setting afresh on its next use."""
        self.__dict__.pop("_values", None)

    @classmethod
    def declared(cls) -> list[Setting[Any]]:
        """Every setting of the app, in declaration order."""
        return [value for value in vars(cls).values() if isinstance(value, Setting)]


_instances: weakref.WeakSet[AppSettings] = weakref.WeakSet()


@receiver(setting_changed)
def _forget_read_values(**_kwargs: Any) -> None:
    for instance in list(_instances):
        instance.forget()


# --- Readers of set values into their types ------------------------------------------------


def as_int(value: Any) -> int:
    return int(value)


def as_float(value: Any) -> float:
    return float(value)


def as_str(value: Any) -> str:
    return str(value)


def as_bool(value: Any) -> bool:
    return flag(value) if isinstance(value, str) else bool(value)


def upper_list(value: Any) -> list[str]:
    items = words(value) if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise TypeError(f"expected a list, not {value!r}")
    return [str(item).strip().upper() for item in items]


def as_pair(value: Any) -> tuple[int, int]:
    if isinstance(value, str):
        return per_window(value)
    count, seconds = value
    return (int(count), int(seconds))


def as_mapping(value: Any) -> dict[Any, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected a dict, not {value!r}")
    return dict(value)


def merged_limits(
    defaults: Mapping[str, tuple[int, int]],
) -> Callable[[Any], dict[str, tuple[int, int]]]:
    """Budgets set in the project over ``defaults``, each as ``(count, window seconds)``."""

    def read(value: Any) -> dict[str, tuple[int, int]]:
        return {**defaults, **{str(k): as_pair(v) for k, v in as_mapping(value).items()}}

    return read


def region_counts(value: Any) -> dict[str, int]:
    return {str(region).upper(): int(count) for region, count in as_mapping(value).items()}


def networks(value: Any) -> tuple[IPNetwork, ...]:
    items: Sequence[object] = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise TypeError(f"expected a list of networks, not {value!r}")
    return _networks(tuple(str(item).strip() for item in items if str(item).strip()))


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def exposure(value: Any) -> bool | str:
    return expose_mode(value) if isinstance(value, str) else bool(value)


def delay_range(value: Any) -> tuple[float, float]:
    low, _, high = str(value).strip().partition("-")
    lo = float(low)
    hi = float(high) if high else lo
    return (min(lo, hi), max(lo, hi))


def str_mapping(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in as_mapping(value).items()}


SEND_LIMITS = {
    "phone_hour": (5, 3600),
    "phone_day": (10, 86400),
    "ip_hour": (30, 3600),
    "phone_all_day": (20, 86400),
    "global_hour": (1000, 3600),
}
VERIFY_LIMITS = {
    "ip_hour": (20, 3600),
    "phone_day": (30, 86400),
    "ip_phone_day": (10, 86400),
}


class PhoneAuthSettings(AppSettings):
    """Settings named ``PHONE_AUTH_<NAME>`` in the host project."""

    prefix = "PHONE_AUTH_"

    CODE_LENGTH = Setting(4, as_int, text=int, doc="Digits in a sign-in code (4-10).")
    CODE_TTL = Setting(300, as_int, text=int, doc="Seconds a code stays valid.")
    CODE_MAX_ATTEMPTS = Setting(3, as_int, text=int, doc="Wrong entries that burn a code.")
    RESEND_COOLDOWN = Setting(60, as_int, text=int, doc="Seconds between two codes for one phone.")
    SEND_LIMITS = Setting(
        SEND_LIMITS,
        merged_limits(SEND_LIMITS),
        text=limits_text(SEND_LIMITS),
        doc="Send budgets as ``name: (count, window seconds)`` over the defaults; only sent "
        "codes count. ``phone_hour``/``phone_day`` are per client and phone, ``ip_hour`` per "
        "client, ``phone_all_day`` per phone across all clients, ``global_hour`` in all.",
    )
    REGION_SEND_LIMITS = Setting(
        {},
        region_counts,
        text=Entries(lambda region, count: int(count), key=str.upper),
        doc="Optional codes per hour per phone region (ISO code), across all clients.",
    )
    VERIFY_LIMITS = Setting(
        VERIFY_LIMITS,
        merged_limits(VERIFY_LIMITS),
        text=limits_text(VERIFY_LIMITS),
        doc="Wrong-code budgets as ``name: (count, window seconds)`` over the defaults. "
        "``ip_hour`` per client across phones, ``phone_day`` per phone across all clients, "
        "``ip_phone_day`` per client and phone (below ``phone_day``, so one client cannot "
        "spend a phone's budget alone).",
    )
    RATE_LIMITS = Setting(
        True,
        as_bool,
        text=flag,
        doc="False switches off the send budgets and activation limits (benchmarks only).",
    )
    TRUSTED_PROXIES = Setting(
        0, as_int, text=int, doc="How many ``X-Forwarded-For`` hops to trust for the client IP."
    )
    TRUSTED_PROXY_NETWORKS = Setting(
        ["127.0.0.1/32", "::1/128"],
        networks,
        text=words,
        doc="Networks whose peers may set ``X-Forwarded-For`` (CIDRs; default: this host).",
    )
    EXPOSE_CODES = Setting(
        False,
        exposure,
        text=expose_mode,
        doc='Demo mode: ``True`` (every client), ``"loopback"`` (loopback clients) or ``False``.',
    )
    REFRESH_REUSE_GRACE = Setting(
        10,
        as_int,
        text=int,
        doc="Seconds in which a replayed refresh token does not revoke its family.",
    )
    CODE_HMAC_KEY = Setting(
        None,
        as_str,
        text=str,
        default_setting="SECRET_KEY",
        doc="Key of the HMAC that codes are stored under (default: ``SECRET_KEY``).",
    )
    SMS_BACKEND = Setting(
        "console",
        as_str,
        text=str,
        doc="``console``, ``locmem``, ``twilio``, ``smsaero``, ``exolve`` or a dotted path.",
    )
    SMS_DELAY = Setting(
        "1-2",
        delay_range,
        text=str,
        doc='The console sender\'s simulated latency range in seconds (``"1-2"`` or ``"0"``).',
    )
    SMS_OPTIONS = Setting(
        {},
        str_mapping,
        text=Entries(lambda key, value: value),
        doc="Provider credentials (``TWILIO_ACCOUNT_SID``, ``SMSAERO_API_KEY``, ...).",
    )
    SMS_TIMEOUT = Setting(10.0, as_float, text=float, doc="Seconds to wait for a real provider.")
    ALLOWED_REGIONS = Setting(
        [], upper_list, text=words, doc="ISO regions accepted; empty means all."
    )
    DENIED_REGIONS = Setting(
        [], upper_list, text=words, doc="ISO regions refused even when the allow-list is empty."
    )
    PHONE_TYPES = Setting(
        ["MOBILE", "FIXED_LINE_OR_MOBILE"],
        upper_list,
        text=words,
        doc="libphonenumber number types that can get a code (``PhoneNumberType`` names).",
    )
    ADAPTER = Setting(
        "phone_auth.adapter.DefaultAdapter",
        as_str,
        text=str,
        doc="Dotted path of the adapter class (host-project hooks).",
    )


app_settings = PhoneAuthSettings()
