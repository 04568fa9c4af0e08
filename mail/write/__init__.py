"""Writing mail: pure stages, plain views in, words, charts and MIME out.

- ``agenda``: what a check-in agenda shows (``AgendaView``) and the reply examples.
- ``answer``: the answer to a message: done, refused, not understood.
- ``language``: each reader's gettext catalog (Babel), and their locale's dates and numbers.
- ``render``: views into a subject, a plain-text part and an HTML part (Jinja2).
- ``compose``: rendered words into one threaded multipart MIME message.
- ``digest``: what an evaluation digest shows, as plain data.
- ``digest_render``: digests as subject, text, HTML, charts and CSV.
- ``digest_words``: an employee's own digest in their language (words, dates, numbers).
- ``digest_csv``: the CSV attached to every digest.
- ``digest_review``: the review cycle's part of a digest (completion, disputes, calibration).
- ``review_mail``: the review cycle's forms and notices, as views and words.
- ``status``: the answers to ``status`` (a person's page) and ``help`` (the grammar).
- ``handover``: the notice a new owner gets when an item of the plan is handed to them.
- ``charts``: PNG charts from plain figures.
- ``tokens``: the signed reply address of an agenda.
"""
