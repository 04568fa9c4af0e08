"""The doors: thin I/O edges that take callables, so nothing here knows the database.

- ``smtpd``: the aiosmtpd intake; answers 250 only once the bytes are stored.
- ``imap``: the IMAP client: new UIDs, exact bytes, then flag, move or delete.
- ``transport``: getting a built message out: an SMTP relay or a Maildir.
- ``tls``: STARTTLS at the intake: the certificate, loaded once and read by doctor.
"""
