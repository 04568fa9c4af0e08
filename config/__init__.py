"""Configuration every process reads: the workers, the command line and the migrations.

- `settings`: the typed ``DRUMBEAT_*`` settings and the process-wide :func:`get_settings`.
- `languages`: the languages mail is written in (one catalog each) and how a file names them.
- `review_scale`: the review cycle's rating scale (``DRUMBEAT_REVIEW_SCALE``), as a type.
- `amounts`: a measurable goal's figures (``2.1M``, ``€4M``, ``45%``), read and written alike.

A leaf package: it imports none of ours (not `drumbeat`, `models`, `mail` or
`workers`), so whatever runs Drumbeat code can read its settings without pulling
in the command line.
"""
