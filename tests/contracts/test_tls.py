"""contracts/tls.py: HTTPS only with a certificate and its key, and a sentence saying what to
set when they are not right."""

from __future__ import annotations

import ssl

import pytest

from contracts.settings import Settings, SettingsError
from contracts.tls import server_context
from tests.support.tls import make_certificate


def test_no_certificate_means_plain_http():
    assert server_context(Settings()) is None


def test_a_certificate_and_its_key_make_a_server_context(tmp_path):
    cert, key = make_certificate(tmp_path)
    context = server_context(Settings(tls_cert=str(cert), tls_key=str(key)))
    assert isinstance(context, ssl.SSLContext)
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


@pytest.mark.parametrize(("given", "missing"), [("tls_cert", "ECONSULT_TLS_KEY"),
                                                 ("tls_key", "ECONSULT_TLS_CERT")])
def test_one_without_the_other_says_what_to_set(tmp_path, given, missing):
    cert, key = make_certificate(tmp_path)
    with pytest.raises(SettingsError, match=f"but {missing} is not: set both"):
        server_context(Settings(**{given: str(cert if given == "tls_cert" else key)}))


def test_a_missing_file_is_named(tmp_path):
    cert, _ = make_certificate(tmp_path)
    with pytest.raises(SettingsError, match=r"ECONSULT_TLS_KEY='.*nowhere\.pem' is not a file"):
        server_context(Settings(tls_cert=str(cert), tls_key=str(tmp_path / "nowhere.pem")))


def test_a_key_of_another_certificate_is_refused(tmp_path):
    cert, _ = make_certificate(tmp_path / "one")
    _, other_key = make_certificate(tmp_path / "other")
    with pytest.raises(SettingsError, match="not a PEM certificate and its matching private key"):
        server_context(Settings(tls_cert=str(cert), tls_key=str(other_key)))
