"""Mail in and out, without the database: three rooms, one job each.

- ``read``: the pure stages of intake, from raw bytes to commands, notes and
  the established sender (nothing there sends or stores anything).
- ``write``: the pure stages of everything Drumbeat sends, from plain views to
  words, charts and MIME.
- ``doors``: the thin edges to the outside: the SMTP intake, the IMAP client,
  the outgoing transport and STARTTLS.

Nothing in ``mail`` imports ``models``, ``workers`` or ``drumbeat`` (only ``config``,
for the settings type): the doors take callables for storing, and ``workers`` wires
them up. ``tests/test_layers.py`` checks both this and that each package's
``__init__`` names every module it holds.
"""
