"""RSASSA-PKCS1-v1_5 with SHA-256, in plain Python (standard library only), as Vast's autoscaler
signs auth_data (core/protocol.md §6). The private key's numbers are read once from
`openssl rsa -text`; a signature then costs one CRT exponentiation, a millisecond or two."""

import base64
import hashlib
import re
import subprocess

# DER of DigestInfo{AlgorithmIdentifier sha256, NULL} before the 32-byte hash (RFC 8017 §9.2).
SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")


class Signer:
    def __init__(self, key_pem_path):
        text = subprocess.run(["openssl", "rsa", "-in", str(key_pem_path), "-noout", "-text"], check=True,
                              capture_output=True, text=True).stdout
        numbers = {}
        for name in ("modulus", "privateExponent", "prime1", "prime2", "exponent1", "exponent2", "coefficient"):
            m = re.search(rf"^{name}:\s*\n((?:\s+[0-9a-f:]+\n)+)", text, re.MULTILINE)
            if not m:
                raise ValueError(f"no {name} in openssl's output")
            numbers[name] = int(re.sub(r"[\s:]", "", m.group(1)), 16)
        m = re.search(r"^publicExponent: (\d+)", text, re.MULTILINE)
        self.n, self.e = numbers["modulus"], int(m.group(1))
        self.p, self.q = numbers["prime1"], numbers["prime2"]
        self.dp, self.dq, self.qinv = numbers["exponent1"], numbers["exponent2"], numbers["coefficient"]
        self.size = (self.n.bit_length() + 7) // 8
        probe = self.sign(b"self-test")
        if pow(int.from_bytes(base64.b64decode(probe), "big"), self.e, self.n) != self._encoded(b"self-test"):
            raise ValueError("the key's numbers do not verify")

    def _encoded(self, message):
        t = SHA256_PREFIX + hashlib.sha256(message).digest()
        em = b"\x00\x01" + b"\xff" * (self.size - len(t) - 3) + b"\x00" + t
        return int.from_bytes(em, "big")

    def sign(self, message):
        """base64 of the signature of `message` (bytes)."""
        m = self._encoded(message)
        s1 = pow(m % self.p, self.dp, self.p)
        s2 = pow(m % self.q, self.dq, self.q)
        s = s2 + self.q * ((self.qinv * (s1 - s2)) % self.p)
        return base64.b64encode(s.to_bytes(self.size, "big")).decode()
