"""Drumbeat: strategy execution run by email.

This small package holds what is shared by every process: the settings
(`drumbeat.settings`) and the command line (`drumbeat.cli`). The domain lives
in `models/`, mail parsing in `mail/`, background work in `workers/`.
"""

__version__ = "0.1.0"
