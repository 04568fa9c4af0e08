"""Drumbeat: strategy execution run by email.

This package is the command line and what only it needs:
- `cli`: the ``drumbeat`` entry point (db, import, status, inspect, and the rest);
- `cli_mail`: the worker, the scheduler, the intake and agenda previews;
- `cli_serve`: ``drumbeat serve``, the whole service in one process;
- `cli_digest`, `cli_review`, `cli_outbox`, `cli_doctor`: digests, the review
  cycle's status, the outbox, and the deployment checks;
- `cli_export`: ``drumbeat export plan|people``, files the importer reads back;
- `status`: ``drumbeat status`` rendered (the cascade, or one person's page);
- `display`, `logs`: what the console shows, and log lines (text or JSON);
- `health`: ``/healthz`` and ``/metrics`` over HTTP;
- `secret_key`: refusing a missing or guessable signing key.

The settings every process reads live in `config/`; the domain in `models/`, mail
in `mail/`, background work in `workers/`.
"""

__version__ = "0.1.0"
