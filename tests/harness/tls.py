"""Throwaway certificates for TLS tests, made at test time with the ``cryptography`` package.

:func:`make_pki` writes into a directory:

* ``ca.pem`` / ``ca.key``: the test certificate authority;
* ``server.pem`` / ``server.key``: signed by it, valid for ``127.0.0.1``, ``::1`` and ``localhost``;
* ``client.pem`` / ``client.key``: a client certificate signed by it (for ``--client-cert-auth``);
* ``other-ca.pem`` and ``other-client.pem`` / ``other-client.key``: a second, unrelated
  authority and a client certificate it signed, for the "wrong CA" cases.

Nothing here is secret: the keys live in a temporary directory for one test session.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
from typing import Dict, List, Optional, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# EC P-256 keys: fast to generate (RSA 2048 takes noticeably longer on a shared CI core).
_CURVE = ec.SECP256R1


def _name(common_name: Optional[str]) -> x509.Name:
    # None: no common name at all (etcd's v3 gateway refuses a client certificate with one
    # while auth is on).
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'pyetcd.etcd tests')]
    if common_name is not None:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _write(path: str, data: bytes, private: bool = False) -> str:
    with open(path, 'wb') as handle:
        handle.write(data)
    if private:
        os.chmod(path, 0o600)
    return path


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _authority(common_name: str) -> Tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(_CURVE())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


def _leaf(common_name: Optional[str], ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, server: bool,
          hosts: Optional[List[str]] = None) -> Tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(_CURVE())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(_name(common_name)).issuer_name(ca_cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
               # A server certificate is a client one too: with --client-cert-auth, etcd's v3
               # gateway connects to etcd's own gRPC port presenting the server certificate,
               # and without clientAuth that handshake fails ("tls: bad certificate").
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                                                    if server else [ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
    if hosts:
        names: List[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def make_pki(directory: str, hosts: Optional[List[str]] = None) -> Dict[str, str]:
    """Write a test CA, a server and a client certificate (and an unrelated CA) into ``directory``.

    Returns the paths by role: ``ca``, ``server_cert``, ``server_key``, ``client_cert``,
    ``client_key``, ``client_nocn_cert``/``client_nocn_key`` (a client certificate without a
    common name), ``other_ca``, ``other_client_cert``, ``other_client_key``.
    """
    os.makedirs(directory, exist_ok=True)
    hosts = hosts or ['127.0.0.1', '::1', 'localhost']
    ca_cert, ca_key = _authority('pyetcd test CA')
    server_cert, server_key = _leaf('etcd server', ca_cert, ca_key, server=True, hosts=hosts)
    client_cert, client_key = _leaf('etcd client', ca_cert, ca_key, server=False)
    nocn_cert, nocn_key = _leaf(None, ca_cert, ca_key, server=False)
    other_ca, other_ca_key = _authority('unrelated CA')
    other_client, other_client_key = _leaf('stranger', other_ca, other_ca_key, server=False)

    def path(name: str) -> str:
        return os.path.join(directory, name)

    pem = serialization.Encoding.PEM
    return {
        'ca': _write(path('ca.pem'), ca_cert.public_bytes(pem)),
        'ca_key': _write(path('ca.key'), _key_pem(ca_key), private=True),
        'server_cert': _write(path('server.pem'), server_cert.public_bytes(pem)),
        'server_key': _write(path('server.key'), _key_pem(server_key), private=True),
        'client_cert': _write(path('client.pem'), client_cert.public_bytes(pem)),
        'client_key': _write(path('client.key'), _key_pem(client_key), private=True),
        'client_nocn_cert': _write(path('client-nocn.pem'), nocn_cert.public_bytes(pem)),
        'client_nocn_key': _write(path('client-nocn.key'), _key_pem(nocn_key), private=True),
        'other_ca': _write(path('other-ca.pem'), other_ca.public_bytes(pem)),
        'other_client_cert': _write(path('other-client.pem'), other_client.public_bytes(pem)),
        'other_client_key': _write(path('other-client.key'), _key_pem(other_client_key), private=True),
    }


def server_tls(pki: Dict[str, str], client_cert_auth: bool = True) -> dict:
    """The ``tls`` dict for :class:`tests.harness.etcd_server.EtcdServer` from :func:`make_pki` paths.

    With ``client_cert_auth`` etcd demands a client certificate signed by the test CA; the
    harness's own health check then presents ``client.pem``.
    """
    return {
        'cert': pki['server_cert'],
        'key': pki['server_key'],
        'ca': pki['ca'],
        'client_cert_auth': client_cert_auth,
        'client_cert': pki['client_cert'],
        'client_key': pki['client_key'],
    }
