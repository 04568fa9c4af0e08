"""Reading mail: pure stages, raw bytes or plain data in, frozen dataclasses out.

- ``message``: raw RFC 5322 bytes into one decoded ``ParsedMessage``, never raising.
- ``decoding``: charsets, encoded words and damaged base64 as the text the sender meant.
- ``headers``: a message's header fields (addresses, date, ids, the headers kept).
- ``classify``: what kind of mail it is (bounce, auto-reply, forward, reply, other).
- ``reply_text``: the new text of a plain-text reply, without quote, signature or footer.
- ``reply_lines``: a reply's lines classified: quote depth, and which are lines we sent.
- ``reply_headers``: where a reply's quoted original starts (attribution, header blocks).
- ``signature``: where a reply's own words end: sign-offs, name blocks, "Sent from my…".
- ``html_text``: HTML bodies as text, with the quoted parts found by their markup.
- ``grammar``: the reply grammar (its docstring is the contract): a reply's lines into commands.
- ``commands``: the typed commands and per-line errors the grammar reads lines into.
- ``task_lines``: the grammar's task lines ("T-12 60% due Friday") and new-task lines.
- ``forward``: the forwarded messages inside a message (who, when, what they said).
- ``forward_blocks``: a forwarded message's header block, read in any language.
- ``notes``: the action items in forwarded 1:1 notes (its docstring lists every form).
- ``notes_people``: the candidates notes may name, and whom the notes are about.
- ``notes_owners``: the owner an action item names, resolved or a problem saying why not.
- ``notes_dates``: an action item's due date, relative to the meeting.
- ``notes_reading``: a notes message read whole: its text, commands and 1:1 day.
- ``calendar``: the meeting an attached invite describes.
- ``own_words``: Drumbeat's own words recognised in what people send back.
- ``authentication``: who sent it, from a token, a relay, the MTA's verdict or DKIM.
- ``vocabulary``: the multilingual words the readers share (header labels, separators, prefixes).
- ``dates``: dates as written in mail, the one place ``dateparser`` is called, under a budget.
- ``inspect``: all of the above for one message, as ``drumbeat inspect`` prints it.
"""
