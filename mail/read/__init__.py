"""Reading mail: pure stages, raw bytes or plain data in, frozen dataclasses out.

- ``message``: raw RFC 5322 bytes into one decoded ``ParsedMessage``, never raising.
- ``classify``: what kind of mail it is (bounce, auto-reply, forward, reply, other).
- ``reply_text``: the new text of a plain-text reply, without quote, signature or footer.
- ``html_text``: HTML bodies as text, with the quoted parts found by their markup.
- ``grammar``: the reply lines into commands and per-line errors.
- ``forward``: the forwarded messages inside a message (who, when, what they said).
- ``notes``: action items and the pair a forwarded 1:1's notes are about.
- ``notes_reading``: a notes message read whole: its text, commands and 1:1 day.
- ``calendar``: the meeting an attached invite describes.
- ``own_words``: Drumbeat's own words recognised in what people send back.
- ``authentication``: who sent it, from a token, a relay, the MTA's verdict or DKIM.
- ``inspect``: all of the above for one message, as ``drumbeat inspect`` prints it.
"""
