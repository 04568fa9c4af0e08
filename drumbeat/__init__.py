"""Drumbeat: strategy execution run by email.

This package is the command line (`drumbeat.cli` and its `cli_*` modules) and
what only it needs (the secret-key check, health endpoints, display). The
settings every process reads live in `config/`; the domain lives in `models/`,
mail in `mail/`, background work in `workers/`.
"""

__version__ = "0.1.0"
