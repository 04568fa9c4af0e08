"""Mail in and out. Parsing here is pure (bytes in, dataclasses out) and never
imports ``models``; the SMTP and IMAP edges are thin. Filled in by the intake issues.
"""
