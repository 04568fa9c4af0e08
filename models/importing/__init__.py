"""Loading a real company: the people CSV and the plan (YAML or CSV).

Reading and checking a file is pure (``people_file``, ``plan_file``: rows in,
typed records and :class:`~models.importing.errors.ImportProblem` out); writing
is one transaction (``load``) that either applies everything or nothing.
"""
