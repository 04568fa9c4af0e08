"""Mail in and out, without the database: three rooms, one job each.

- ``mail.read``: the pure stages of intake, from raw bytes to commands, notes and
  the established sender (nothing there sends or stores anything).
- ``mail.write``: the pure stages of everything Drumbeat sends, from plain views to
  words, charts and MIME.
- ``mail.doors``: the thin edges to the outside: the SMTP intake, the IMAP client,
  the outgoing transport and STARTTLS.

Nothing in ``mail`` imports ``models`` or ``workers``: the doors take callables for
storing, and ``workers`` wires them up (``tests/test_layers.py`` checks it).
docs/design.md describes what is read (the reply grammar, the ``drumbeat inspect``
contract) and whom it believes (the trust model).
"""
