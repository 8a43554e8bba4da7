"""One module per role's entry point; each assembles its stages with ``router.bootstrap``.

- ``payment_worker``: ``router worker``, the payment path (ingest, screening, corridor) and the
  tracker / health / metrics web endpoints;
- ``settlement_worker``: ``router settle-worker``, the PvP settlement core.

The compliance review page (``router review-server``) is ``router.web.server.serve``.
"""
