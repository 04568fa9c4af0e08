"""STARTTLS at the door: the intake's certificate, loaded once at start and read by doctor.

``DRUMBEAT_SMTPD_TLS_CERT`` and ``DRUMBEAT_SMTPD_TLS_KEY`` (PEM; usually the receiving
MTA's own files) make the intake offer STARTTLS; ``DRUMBEAT_SMTPD_REQUIRE_TLS`` makes it
required before MAIL for every client outside ``DRUMBEAT_TRUSTED_RELAYS``. A setting
that cannot be used is a :class:`TlsSetupError` with a sentence for the operator, so
the commands can stop at start with that sentence instead of a traceback.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import TYPE_CHECKING

from mail.read.authentication import peer_in_networks

if TYPE_CHECKING:
    from config.settings import Settings


class TlsSetupError(Exception):
    """The TLS settings cannot be used; the message says which one and why."""


@dataclass(frozen=True)
class DoorTls:
    """What the door offers: STARTTLS with ``context``, required for clients outside
    ``exempt_networks`` when ``required``."""

    context: ssl.SSLContext
    required: bool = False
    exempt_networks: tuple[IPv4Network | IPv6Network, ...] = ()

    def required_for(self, peer_address: str | None) -> bool:
        """Must this client STARTTLS before MAIL? Trusted relays may send in the clear."""
        return self.required and not peer_in_networks(peer_address, self.exempt_networks)


@dataclass(frozen=True)
class CertificateFacts:
    """What doctor says about a certificate: until when, and for which names."""

    not_after: datetime
    names: tuple[str, ...]

    def days_left(self, now: datetime) -> float:
        return (self.not_after - now).total_seconds() / 86400

    def covers(self, domain: str) -> bool:
        return any(name_matches(name, domain) for name in self.names)


def name_matches(name: str, domain: str) -> bool:
    """Does a certificate name cover ``domain``? A wildcard covers one label only."""
    name, domain = name.lower().rstrip("."), domain.lower().rstrip(".")
    if name.startswith("*."):
        head, _dot, rest = domain.partition(".")
        return bool(head) and rest == name[2:]
    return name == domain


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server context for STARTTLS from PEM files; TlsSetupError says what is wrong."""
    for setting, path in (("DRUMBEAT_SMTPD_TLS_CERT", cert), ("DRUMBEAT_SMTPD_TLS_KEY", key)):
        if not path.is_file():
            raise TlsSetupError(f"{setting}={path}: no such file.")
        try:
            path.read_bytes()
        except OSError as error:
            raise TlsSetupError(f"{setting}={path}: cannot be read ({error.strerror}).") from None
    if b"ENCRYPTED" in key.read_bytes()[:4096]:  # PKCS#8 or the older Proc-Type header
        raise TlsSetupError(f"DRUMBEAT_SMTPD_TLS_KEY={key} is protected by a passphrase; "
                            "the intake starts unattended, so give it the key without one.")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:  # never OpenSSL's passphrase prompt on the terminal
        context.load_cert_chain(certfile=str(cert), keyfile=str(key), password=b"")
    except ssl.SSLError as error:
        reason = error.reason or str(error)
        if "KEY_VALUES_MISMATCH" in reason.upper():
            raise TlsSetupError(f"DRUMBEAT_SMTPD_TLS_KEY={key} is not the key of "
                                f"DRUMBEAT_SMTPD_TLS_CERT={cert}.") from None
        raise TlsSetupError(f"DRUMBEAT_SMTPD_TLS_CERT={cert} and DRUMBEAT_SMTPD_TLS_KEY={key} "
                            f"are not a PEM certificate and its key ({reason}).") from None
    return context


def door_tls(settings: Settings) -> DoorTls | None:
    """The door's STARTTLS from the settings; None when no certificate is set."""
    cert, key = settings.smtpd_tls_cert, settings.smtpd_tls_key
    if cert is None and key is None:
        if settings.smtpd_require_tls:
            raise TlsSetupError("DRUMBEAT_SMTPD_REQUIRE_TLS needs DRUMBEAT_SMTPD_TLS_CERT and "
                                "DRUMBEAT_SMTPD_TLS_KEY.")
        return None
    if cert is None or key is None:
        given, missing = (("DRUMBEAT_SMTPD_TLS_CERT", "DRUMBEAT_SMTPD_TLS_KEY") if key is None
                          else ("DRUMBEAT_SMTPD_TLS_KEY", "DRUMBEAT_SMTPD_TLS_CERT"))
        raise TlsSetupError(f"{given} is set but {missing} is not; set both or neither.")
    return DoorTls(tls_context(cert, key), settings.smtpd_require_tls,
                   settings.trusted_networks)


def certificate_facts(cert: Path) -> CertificateFacts:
    """Expiry and names of the first certificate in a PEM file (the server's own).

    Names are the DNS subjectAltNames, or the subject's common name when there are none.
    """
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        certificate = x509.load_pem_x509_certificate(cert.read_bytes())
    except ValueError as error:
        raise TlsSetupError(f"DRUMBEAT_SMTPD_TLS_CERT={cert} is not a PEM certificate "
                            f"({error}).") from None
    try:
        alt_names = certificate.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        alt_names = []
    names = alt_names or [str(attribute.value) for attribute in
                          certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return CertificateFacts(certificate.not_valid_after_utc.astimezone(UTC), tuple(names))
