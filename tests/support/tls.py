"""A self-signed certificate for HTTPS tests: its own trust anchor, valid for this machine; and
ingest serving HTTPS with one."""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509  # aiortc's own dependency: always installed with econsult
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from contracts.settings import Settings
from tests.support.ingest import running_ingest
from tests.support.network import machine_ipv4
from tests.support.processes import free_port


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """``cert.pem`` and ``key.pem`` in ``folder``, for 127.0.0.1, localhost and this machine's
    own IPv4 address (when it has one beside loopback), valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "econsult test")])
    names: list[x509.GeneralName] = [x509.DNSName("localhost"),
                                     x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]
    names.append(x509.IPAddress(ipaddress.IPv4Address(machine_ipv4())))
    now = datetime.now(UTC)
    public = key.public_key()
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public),
                           critical=False)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


@contextlib.contextmanager
def serving_https(settings: Settings, folder: Path) -> Iterator[tuple[Settings, str, str]]:
    """Ingest with ``settings`` serving HTTPS on this machine's own address, as a client
    elsewhere reaches it: its settings, its URL and the certificate to trust."""
    cert, key = make_certificate(folder)
    port = free_port()
    own = dataclasses.replace(settings, ingest_host="0.0.0.0", ingest_port=port,
                              tls_cert=str(cert), tls_key=str(key),
                              room_url=f"https://{machine_ipv4()}:{port}")
    with running_ingest(own) as url:
        yield own, url, str(cert)
