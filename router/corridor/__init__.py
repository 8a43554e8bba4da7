"""The corridor: one payment's life from receipt to final status, as pure state transitions.

``lifecycle`` holds the handlers (Mojaloop-style: take the payment's state and an event, return
the new state plus the messages to send, a ``CorridorStep``); ``legs`` says which accounts each
currency leg moves; ``outbound`` builds the status, notification and exception messages both sides
receive; ``receipts`` shrinks payments at rest to receipts; ``ports`` is what the lifecycle needs
from the world.
"""
