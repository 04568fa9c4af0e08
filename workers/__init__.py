"""Background work and the services it runs: the imperative shell around the pure core.

Wiring and running:
- ``runtime``: the composition root: settings, database, transport, clock, renderers.
- ``broker``: the dramatiq broker (Redis, or in-process on the embedded setup).
- ``actors``: the dramatiq actors; each takes ids or a timestamp and is idempotent.
- ``scheduler``: the tick that enqueues what is due, and the sweeper.
- ``nudges``: nudging workers in batches.
- ``metrics``: Prometheus counters and gauges.

Mail out:
- ``outbox``: rows first (the typed ``OutboxRow``), broker messages second, a claim
  before each send.
- ``sending``: a batch of rows at a time: render once, claim, build, hand over, mark sent.
- ``agendas``: which check-in agendas are due, and what each one says.
- ``agenda_reads``: an agenda's work: open tasks grouped, the last 1:1's action items,
  goals at risk, in a fixed number of queries per batch of agendas.
- ``evaluations``: a period's figures for everyone, in a fixed number of queries.
- ``evaluation_goals``: the goals' side of those figures: progress at the window's edges
  (measured, with the tasks' roll-up beside it), goal lines, initiatives.
- ``digests``: snapshot the figures, then the HR, manager and employee digests.
- ``review_digest``: the period's review cycle in the digests.
- ``reviews``: the review cycle by email: open it, send the forms, remind, record what was missed.
- ``review_forms``: rendering the review forms when they are sent.

Mail in:
- ``intake``: storing what arrives before anything else (the SMTP door's store).
- ``imap_poller``: the IMAP door: poll, store, only then let the message go.
- ``inbound``: the reply pipeline: read, understand, apply in one transaction, answer.
- ``apply``: the reply commands, with the sender's permissions.
- ``permissions``: who may do what, read from the reporting line.
- ``notes``: forwarded 1:1 notes: the meeting and its action items.
- ``review_answers``: an answer to a review form: store the step, move the review on.
- ``talking_points``: topics for a pair's next 1:1: raised, shown, closed.
- ``away``: time away: the periods it excuses, and the other side told once.
- ``plan_changes``: the plan by email: hand-overs, titles, dates, new projects, goal figures.
- ``status_page``: the answers to ``status`` and ``help``.
- ``failures``: bounded failure: a try counted before its work; what keeps failing ends
  as ``failed``.
- ``retention``: what is kept of a processed message, and for how long.

May import ``config``, ``models`` and ``mail``; nothing in ``models`` or ``mail`` imports
it. docs/design.md describes the flows (agendas out, replies and notes in, digests) and
the rule they share: a row in the database first, a nudge on the broker second.
"""
