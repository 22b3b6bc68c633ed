"""Certificates for the TLS tests, made by the test itself (OpenSSL through
python3-cryptography): a CA, another CA, and leaf certificates signed by
them, valid or expired, for the names the test chooses.

    pki = Pki(tmp_path / "pki")
    pki.ca                       # path of the CA certificate (PEM)
    pki.leaf("server", ["localhost"], ["127.0.0.1"])  # (cert, key) paths
"""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path, key):
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


def _write_cert(path, cert):
    with open(path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


class Pki:
    def __init__(self, directory, name="rbac test CA"):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.name = name
        self.key = _key()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.utcnow()
        self.cert = (x509.CertificateBuilder()
                     .subject_name(subject).issuer_name(subject)
                     .public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=30))
                     .add_extension(x509.BasicConstraints(ca=True,
                                                          path_length=None),
                                    critical=True)
                     .add_extension(x509.KeyUsage(
                         digital_signature=True, key_cert_sign=True,
                         crl_sign=True, content_commitment=False,
                         key_encipherment=False, data_encipherment=False,
                         key_agreement=False, encipher_only=False,
                         decipher_only=False), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.ca = os.path.join(self.dir, "ca.pem")
        _write_cert(self.ca, self.cert)

    def leaf(self, stem, dns=(), ips=(), expired=False, client=False):
        """Writes <stem>.pem and <stem>.key; returns their paths."""
        key = _key()
        now = datetime.datetime.utcnow()
        if expired:
            start = now - datetime.timedelta(days=10)
            end = now - datetime.timedelta(days=1)
        else:
            start = now - datetime.timedelta(days=1)
            end = now + datetime.timedelta(days=30)
        names = [x509.DNSName(d) for d in dns] + \
            [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        cn = (list(dns) + list(ips) + [stem])[0]
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client \
            else ExtendedKeyUsageOID.SERVER_AUTH
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([
                 x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
             .issuer_name(self.cert.subject)
             .public_key(key.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(start).not_valid_after(end)
             .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        if names:
            b = b.add_extension(x509.SubjectAlternativeName(names),
                                critical=False)
        cert = b.sign(self.key, hashes.SHA256())
        crt = os.path.join(self.dir, stem + ".pem")
        kp = os.path.join(self.dir, stem + ".key")
        _write_cert(crt, cert)
        _write_key(kp, key)
        return crt, kp
