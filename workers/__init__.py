"""Background work and the services it runs: the imperative shell around the pure core.

``broker`` and ``runtime`` (the composition root), ``actors`` (dramatiq),
``scheduler`` (the tick), ``agendas`` (what is due, what it says), ``outbox``
and ``sending`` (claim, render once, send), ``intake`` and ``imap_poller``
(storing what arrives), ``inbound`` (the reply pipeline) and ``apply`` (the
commands, with permissions).

May import ``config``, ``models`` and ``mail``; nothing in ``models`` or ``mail`` imports
it. docs/design.md describes the flows (agendas out, replies and notes in, digests) and
the rule they share: a row in the database first, a nudge on the broker second.
"""
