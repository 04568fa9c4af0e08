"""Background work: the dramatiq broker, actors, the scheduler and the services they call.

May import ``models`` and ``mail``; nothing in ``models`` or ``mail`` imports it.
"""
