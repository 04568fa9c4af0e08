"""Loading a real company: the people CSV, the plan (YAML or CSV) and earlier 1:1s.

Reading and checking a file is pure (rows in, typed records and problems out);
writing is one transaction that applies everything or nothing:
- ``csvfile``: opening the CSV files spreadsheets and HR systems export;
- ``values``: readers for the values those files actually contain;
- ``problems``: every refusal names the file, the row, the field and the fix;
- ``people_file`` and ``load_people``: the people file, read, then written;
- ``org_graph``: reporting-line checks (who would end up managing whom);
- ``plan_format``: the plan file's keys and columns, read by ``plan_file`` and
  written back by ``models.exporting``;
- ``plan_file`` and ``load_plan``: the plan, read (items pinned by ref, or matched
  by their path of titles), then written in bulk;
- ``meetings_file`` and ``load_meetings``: 1:1s kept before Drumbeat, back-filled.
"""
