"""The faust application: built from settings, stages registered onto it.

``build_app`` is the one bootstrap. Tests hand it their own settings (fresh topic prefix,
memory store); the CLI hands it the environment's. Stages only wire topics to pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust

from router.config import Settings
from router.faust_consumer import use_read_committed
from router.topics import topic_name


@dataclass
class Wiring:
    """The faust topics every stage may use, resolved with the deployment's prefix."""

    app: faust.App
    settings: Settings

    def topic(self, name: str, **kw: Any) -> faust.TopicT:
        kw.setdefault("key_serializer", "raw")
        kw.setdefault("value_serializer", "raw")
        # Topics are created by `router topics create` from router/topics.py, not by faust.
        return self.app.topic(topic_name(name, self.settings.kafka.topic_prefix), **kw)


def _credentials(s: Settings) -> Any:
    k = s.kafka
    if k.security_protocol == "PLAINTEXT":
        return None
    from router.kafka_clients import ssl_context

    ctx = ssl_context(k)
    if k.sasl_mechanism:
        password = k.sasl_password.get_secret_value() if k.sasl_password else ""
        mech = "PLAIN" if k.sasl_mechanism == "PLAIN" else k.sasl_mechanism
        return faust.SASLCredentials(
            username=k.sasl_username, password=password, mechanism=mech, ssl_context=ctx
        )
    return ctx


def build_app(settings: Settings, *, stages: tuple[str, ...] = ("fx",)) -> faust.App:
    k = settings.kafka
    use_read_committed(k.fetch_max_wait_ms)
    datadir = (settings.data_dir / settings.app_id).resolve()
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{h}" for h in k.hosts],
        broker_credentials=_credentials(settings),
        store=settings.store_url,
        processing_guarantee=settings.processing_guarantee,
        topic_replication_factor=k.replication_factor,
        broker_session_timeout=k.session_timeout_s,
        broker_rebalance_timeout=k.rebalance_timeout_s,
        broker_heartbeat_interval=min(3.0, k.session_timeout_s / 3),
        datadir=str(datadir),
        web_host=settings.web.host,
        web_port=settings.web.port,
        web_enabled=True,
        consumer_auto_offset_reset="earliest",
        stream_wait_empty=False,
        table_cleanup_interval=30.0,
    )
    app.conf.table_standby_replicas = 0
    wiring = Wiring(app, settings)
    from router.pipeline import FAUST_STAGES

    for name in stages:
        if name not in FAUST_STAGES:
            raise ValueError(f"unknown faust stage {name!r}; known: {', '.join(sorted(FAUST_STAGES))}")
        FAUST_STAGES[name](wiring)
    return app
