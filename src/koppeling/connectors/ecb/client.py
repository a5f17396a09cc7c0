"""Fetching the ECB's reference rates (no credentials, no flow capability: a scheduled task calls it).

Files (ECB, "Euro foreign exchange reference rates", https://www.ecb.europa.eu/stats/policy_and_
exchange_rates/euro_reference_exchange_rates/html/index.en.html): ``eurofxref-daily.xml`` (the
last working day), ``eurofxref-hist-90d.xml`` (90 days) under ``/stats/eurofxref/``. Published
around 16:00 CET on TARGET working days. Parsing is core's (``core.exchange.parse_ecb_xml``), so the
rules and this fetcher can never disagree about the format.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from koppeling.core.exchange import ExchangeRateError, ExchangeRateTable, parse_ecb_xml
from koppeling.core.messages import gettext_noop, register

from ..base import ConnectionConfig, Connector
from ..errors import ResponseError, TransientError
from ..http import make_client
from ..registry import register as register_connector

__all__ = ["FILES", "EcbRates"]

SYSTEM = "ECB"
FILES = {"daily": "eurofxref-daily.xml", "90d": "eurofxref-hist-90d.xml"}


class EcbCode:
    BAD_FEED = "ecb_bad_feed"


register(
    {
        EcbCode.BAD_FEED: (
            gettext_noop("The ECB exchange-rate file could not be read (%(detail)s)."),
            gettext_noop("Nothing to do: koppeling tries again at the next scheduled fetch."),
        )
    }
)


@register_connector
class EcbRates(Connector):
    system: ClassVar[str] = "ecb"
    label: ClassVar[str] = "ECB euro reference rates"
    default_base_url: ClassVar[str] = "https://www.ecb.europa.eu/stats/eurofxref"
    max_in_flight: ClassVar[int] = 1

    def __init__(self, config: ConnectionConfig, http: httpx.Client | None = None, **kwargs: Any) -> None:
        base = (config.base_url or self.default_base_url).rstrip("/")
        super().__init__(config, http or make_client(base), **kwargs)
        self._base = base

    def check(self) -> None:
        self.fetch("daily")

    def fetch(self, which: str = "90d") -> ExchangeRateTable:
        """The published rates (``"daily"`` or ``"90d"``); raises ``TransientError`` / ``ResponseError``."""
        url = f"{self._base}/{FILES[which]}"
        try:
            response = self.http.get(url)
        except httpx.HTTPError as exc:
            raise TransientError(params={"system": SYSTEM, "remote": type(exc).__name__}) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(params={"system": SYSTEM}, status_code=response.status_code)
        if response.status_code != 200:
            raise ResponseError(
                EcbCode.BAD_FEED, {"system": SYSTEM, "detail": f"HTTP {response.status_code}"}
            )
        try:
            return parse_ecb_xml(response.content)
        except ExchangeRateError as exc:
            raise ResponseError(EcbCode.BAD_FEED, {"system": SYSTEM, "detail": str(exc)}) from exc
