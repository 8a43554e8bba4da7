"""FX: quotes, conversion, quote locking and the pricing of a payment.

- ``quote``: the ``Quote`` model (the ``fx.rates`` value format) and its parsers.
- ``currency``: ISO 4217 minor units, amount parsing, the rounding rule.
- ``convert``: best quote for the payer, direct or crossed routes, spread, exact conversion.
- ``lock``: ``LockedQuote``, deterministic quote ids, the ``LockStore`` interface.
- ``pricing``: ``price_payment`` (Ok[Priced] | Reject | Wait) and the ``fx.requests`` format.
- ``settings``: ``FxSettings`` (spreads, staleness, wait limit, lock lifetime, cross currencies).
"""
