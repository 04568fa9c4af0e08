"""Self-signed certificates made in the test, for the intake's STARTTLS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class CertificateFiles:
    cert: Path
    key: Path


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def self_signed(folder: Path, names: tuple[str, ...] = ("acme.example",),
                valid_days: float = 90, expired_days_ago: float | None = None,
                stem: str = "door") -> CertificateFiles:
    """A certificate for ``names`` valid ``valid_days`` from now, or one that expired
    ``expired_days_ago``; written as PEM files ``stem.crt`` and ``stem.key``."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    if expired_days_ago is None:
        not_before, not_after = now - timedelta(days=1), now + timedelta(days=valid_days)
    else:
        not_after = now - timedelta(days=expired_days_ago)
        not_before = not_after - timedelta(days=90)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                       critical=False)
        .sign(key, hashes.SHA256()))
    files = CertificateFiles(folder / f"{stem}.crt", folder / f"{stem}.key")
    files.cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(_key_pem(key))
    return files


def with_passphrase(files: CertificateFiles, passphrase: bytes = b"secret") -> Path:
    """The certificate's key written again, encrypted with a passphrase."""
    key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
    path = files.key.with_suffix(".encrypted.key")
    path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase)))
    return path


def other_key(folder: Path, stem: str = "other") -> Path:
    """A private key that belongs to no certificate here."""
    path = folder / f"{stem}.key"
    path.write_bytes(_key_pem(ec.generate_private_key(ec.SECP256R1())))
    return path
