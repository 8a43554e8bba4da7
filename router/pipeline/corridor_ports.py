"""The corridor's ports as the running router provides them: the participant directory, FX
quotes read from ``fx.rates``, and translation to each side's profile."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from router.config import Settings
from router.fx.quote import Quote, QuoteFormatError, parse_quote
from router.iso20022.directory import Directory, load_directory
from router.iso20022.model import CanonicalMessage, Side
from router.iso20022.translate import to_cbpr, to_cips
from router.outcome import Reject

log = logging.getLogger(__name__)


@dataclass
class RouterPorts:
    settings: Settings
    directory: Directory
    _quotes: dict[tuple[str, str], Quote] = field(default_factory=dict)
    # One tuple per book version: pricing keeps its best routes while it is handed the same tuple.
    _book: tuple[Quote, ...] | None = None

    @classmethod
    def create(cls, settings: Settings) -> RouterPorts:
        directory = load_directory()
        return cls(settings, directory)

    def quotes(self) -> tuple[Quote, ...]:
        if self._book is None:
            self._book = tuple(self._quotes.values())
        return self._book

    def add_quote(self, quote: Quote) -> None:
        key = (quote.pair, quote.provider)
        current = self._quotes.get(key)
        if current is None or quote.ts >= current.ts:
            self._quotes[key] = quote
            self._book = None

    def translate(self, message: CanonicalMessage, to: Side) -> CanonicalMessage:
        fn = to_cips if to == "cips" else to_cbpr
        result = fn(message, self.directory, router_bic=self.settings.router_bic)
        if isinstance(result, Reject):
            raise ValueError(str(result))
        return result.value.message

    def currency_of(self, bic: str) -> str | None:
        found = self.directory.by_bic(bic)
        if found is None or found.cips_id:
            return None
        return found.currencies[0] if found.currencies else None

    async def follow_quotes(self) -> None:
        """Read ``fx.rates`` from the beginning and keep the latest quote per pair and provider."""
        from aiokafka import AIOKafkaConsumer

        from router.kafka_clients import client_options
        from router.topics import topic_name

        consumer = AIOKafkaConsumer(
            topic_name("fx.rates", self.settings.kafka.topic_prefix), **client_options(self.settings.kafka),
            group_id=None, auto_offset_reset="earliest", isolation_level="read_committed", fetch_max_wait_ms=100)
        await consumer.start()
        try:
            async for record in consumer:
                try:
                    self.add_quote(parse_quote(record.value or b""))
                except QuoteFormatError as exc:
                    log.warning("skipping bad quote at fx.rates[%s]@%s: %s", record.partition, record.offset, exc)
        finally:
            await consumer.stop()
