"""Jinja2 templates only (``*.j2``), loaded through importlib.resources."""
