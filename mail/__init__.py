"""Mail in and out, without the database.

Pure stages (bytes or plain dataclasses in, dataclasses or strings out):
``message`` (MIME walk and decoding), ``classify`` (reply, forward,
auto-reply, bounce), ``reply_text`` and ``html_text`` (the new text of a
reply), ``grammar`` (reply lines into commands), ``inspect`` (all of them, as
``drumbeat inspect`` prints), ``agenda``, ``answer``, ``render`` and
``compose`` (outgoing words and MIME), ``tokens`` (signed reply addresses).

Thin edges: ``smtpd`` (the aiosmtpd handler), ``imap`` (the IMAP client),
``transport`` (SMTP relay or Maildir). They take callables for storing, so
nothing here imports ``models`` or ``workers``; ``workers`` wires them up.
"""
