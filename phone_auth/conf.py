"""Typed, prefixed settings of the phone sign-in app with their defaults.

Read lazily (each attribute looks at ``django.conf.settings`` when used) so that a host
project can set only what it wants and tests can use ``override_settings``.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK = "loopback"


class AppSettings:
    """Settings named ``PHONE_AUTH_<NAME>`` in the host project."""

    prefix = "PHONE_AUTH_"

    def _get(self, name: str, default: object) -> object:
        return getattr(settings, self.prefix + name, default)

    @property
    def CODE_LENGTH(self) -> int:
        """Digits in a sign-in code (4-10)."""
        return int(self._get("CODE_LENGTH", 4))  # type: ignore[call-overload]

    @property
    def CODE_TTL(self) -> int:
        """Seconds a code stays valid."""
        return int(self._get("CODE_TTL", 300))  # type: ignore[call-overload]

    @property
    def CODE_MAX_ATTEMPTS(self) -> int:
        """Wrong entries that burn a code."""
        return int(self._get("CODE_MAX_ATTEMPTS", 3))  # type: ignore[call-overload]

    @property
    def RESEND_COOLDOWN(self) -> int:
        """Seconds between two codes for one phone."""
        return int(self._get("RESEND_COOLDOWN", 60))  # type: ignore[call-overload]

    @property
    def SEND_LIMITS(self) -> dict[str, tuple[int, int]]:
        """Send budgets as ``name: (count, window seconds)``; only sent codes count.

        ``phone_hour``/``phone_day`` are per client and phone, ``ip_hour`` per client,
        ``phone_all_day`` per phone across all clients, ``global_hour`` in all.
        """
        defaults = {
            "phone_hour": (5, 3600),
            "phone_day": (10, 86400),
            "ip_hour": (30, 3600),
            "phone_all_day": (20, 86400),
            "global_hour": (1000, 3600),
        }
        overrides = self._get("SEND_LIMITS", {})
        assert isinstance(overrides, dict)
        return {**defaults, **overrides}

    @property
    def REGION_SEND_LIMITS(self) -> dict[str, int]:
        """Optional codes per hour per phone region (ISO code), across all clients."""
        value = self._get("REGION_SEND_LIMITS", {})
        assert isinstance(value, dict)
        return {str(region).upper(): int(count) for region, count in value.items()}

    @property
    def VERIFY_LIMITS(self) -> dict[str, tuple[int, int]]:
        """Wrong-code budgets as ``name: (count, window seconds)``.

        ``ip_hour`` per client across phones, ``phone_day`` per phone across all clients,
        ``ip_phone_day`` per client and phone (below ``phone_day``, so one client cannot
        spend a phone's budget alone).
        """
        defaults = {
            "ip_hour": (20, 3600),
            "phone_day": (30, 86400),
            "ip_phone_day": (10, 86400),
        }
        overrides = self._get("VERIFY_LIMITS", {})
        assert isinstance(overrides, dict)
        return {**defaults, **overrides}

    @property
    def RATE_LIMITS(self) -> bool:
        """False switches off the send budgets and activation limits (benchmarks only)."""
        return bool(self._get("RATE_LIMITS", True))

    @property
    def TRUSTED_PROXIES(self) -> int:
        """How many ``X-Forwarded-For`` hops to trust for the client IP."""
        return int(self._get("TRUSTED_PROXIES", 0))  # type: ignore[call-overload]

    @property
    def TRUSTED_PROXY_NETWORKS(self) -> tuple[IPNetwork, ...]:
        """Networks whose peers may set ``X-Forwarded-For`` (CIDRs; default: this host)."""
        value = self._get("TRUSTED_PROXY_NETWORKS", ("127.0.0.1/32", "::1/128"))
        if isinstance(value, str):
            value = value.split(",")
        assert isinstance(value, list | tuple)
        return _networks(tuple(str(item).strip() for item in value if str(item).strip()))

    @property
    def EXPOSE_CODES(self) -> bool | str:
        """Demo mode: ``True`` (every client), ``"loopback"`` (loopback clients) or ``False``."""
        value = self._get("EXPOSE_CODES", False)
        if isinstance(value, str):
            text = value.strip().lower()
            return LOOPBACK if text == LOOPBACK else text in ("true", "1", "yes", "on")
        return bool(value)

    @property
    def REFRESH_REUSE_GRACE(self) -> int:
        """Seconds in which a replayed refresh token does not revoke its family."""
        return int(self._get("REFRESH_REUSE_GRACE", 10))  # type: ignore[call-overload]

    @property
    def CODE_HMAC_KEY(self) -> str:
        """Key of the HMAC that codes are stored under."""
        return str(self._get("CODE_HMAC_KEY", settings.SECRET_KEY))

    @property
    def SMS_BACKEND(self) -> str:
        """``console``, ``locmem``, ``twilio``, ``smsaero``, ``exolve`` or a dotted path."""
        return str(self._get("SMS_BACKEND", "console"))

    @property
    def SMS_DELAY(self) -> tuple[float, float]:
        """The console sender's simulated latency range in seconds (``"1-2"`` or ``"0"``)."""
        raw = str(self._get("SMS_DELAY", "1-2")).strip()
        low, _, high = raw.partition("-")
        lo = float(low)
        hi = float(high) if high else lo
        return (min(lo, hi), max(lo, hi))

    @property
    def SMS_OPTIONS(self) -> dict[str, str]:
        """Provider credentials."""
        value = self._get("SMS_OPTIONS", {})
        assert isinstance(value, dict)
        return value

    @property
    def SMS_TIMEOUT(self) -> float:
        """Seconds to wait for a real provider."""
        return float(self._get("SMS_TIMEOUT", 10.0))  # type: ignore[arg-type]

    @property
    def ALLOWED_REGIONS(self) -> list[str]:
        """ISO regions accepted; empty means all."""
        value = self._get("ALLOWED_REGIONS", [])
        assert isinstance(value, list | tuple)
        return [str(v).upper() for v in value]

    @property
    def DENIED_REGIONS(self) -> list[str]:
        """ISO regions refused even when the allow-list is empty."""
        value = self._get("DENIED_REGIONS", [])
        assert isinstance(value, list | tuple)
        return [str(v).upper() for v in value]

    @property
    def PHONE_TYPES(self) -> list[str]:
        """libphonenumber number types that can get a code (``PhoneNumberType`` names)."""
        value = self._get("PHONE_TYPES", ["MOBILE", "FIXED_LINE_OR_MOBILE"])
        assert isinstance(value, list | tuple)
        return [str(v).upper() for v in value]

    @property
    def ADAPTER(self) -> str:
        """Dotted path of the adapter class (host-project hooks)."""
        return str(self._get("ADAPTER", "phone_auth.adapter.DefaultAdapter"))


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


app_settings = AppSettings()
