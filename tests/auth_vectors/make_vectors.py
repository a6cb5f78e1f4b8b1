"""Writes the vectors tests/unit/auth_test.cpp and pyjson_test.cpp check cppworker against.

Every expected value is produced by the Python code PyWorker runs (json.dumps, base64.b64decode,
PyCryptodome's pkcs1_15), so the C++ is compared with the real thing, not with our reading of it.
Byte strings are written as hex; fields named *_json hold ASCII JSON text to parse.

Usage: /usr/bin/python3 make_vectors.py OUTPUT.json   (needs Debian's python3-pycryptodome)
"""

import base64
import binascii
import json
import random
import struct
import sys

try:
    from Cryptodome.Hash import SHA256
    from Cryptodome.IO import PEM
    from Cryptodome.PublicKey import RSA
    from Cryptodome.Signature import pkcs1_15
    from Cryptodome.Util.asn1 import DerSequence
except ImportError:
    sys.exit("make_vectors.py needs PyCryptodome as 'Cryptodome' (apt install python3-pycryptodome)")

SIGNED_FIELDS = ("cost", "endpoint", "reqnum", "request_idx", "url")


def hexed(data):
    return (data.encode() if isinstance(data, str) else data).hex()


def ascii_json(value):
    return json.dumps(value)  # ensure_ascii keeps it ASCII


# --- PyWorker's own code, verbatim in effect ------------------------------------------------------

def url_message(url):
    return json.dumps({"url": url}, indent=4, sort_keys=True)


def all_fields_message(auth):
    return json.dumps({k: v for k, v in auth.items() if k in SIGNED_FIELDS}, indent=4, sort_keys=True)


def pyworker_verify(key, message, signature):
    try:
        pkcs1_15.new(key).verify(SHA256.new(message.encode()), base64.b64decode(signature))
        return True
    except (ValueError, TypeError):
        return False


def sign(key, message_bytes):
    return base64.b64encode(pkcs1_15.new(key).sign(SHA256.new(message_bytes))).decode()


def sign_without_null_params(key, message_bytes):
    """A signature whose DigestInfo omits the NULL parameters, made with the raw RSA operation."""
    digest_info = bytes.fromhex("302f300b0609608648016503040201" "0420") + SHA256.new(message_bytes).digest()
    k = key.size_in_bytes()
    encoded = b"\x00\x01" + b"\xff" * (k - 3 - len(digest_info)) + b"\x00" + digest_info
    raw = pow(int.from_bytes(encoded, "big"), key.d, key.n)
    return base64.b64encode(raw.to_bytes(k, "big")).decode()


# --- vectors ------------------------------------------------------------------------------------

def json_string_cases():
    texts = [
        "", "plain", 'a "quoted" word', "back\\slash", "/slash/is/kept", "\x7f DEL",
        "\n\r\t\b\f", "".join(chr(c) for c in range(0x20)), "caf\u00e9 \u00ff", "\u20ac \u4e2d \uffff",
        "\ue000 private use", "\U0001f600 emoji", "\U00010000\U0010ffff", "mixed \"\\\u00e9\U0001f680\x01",
    ]
    return [{"input_hex": hexed(t), "expected_hex": hexed(json.dumps(t))} for t in texts]


def float_cases():
    values = [
        0.1, 242.0, 1e16, 1e-7, 1.5e-05, 123456789012345.6, 1e22, 5e-324, -0.0, 1.7976931348623157e308,
        0.0, 1.0, -1.5, 100.0, 0.0001, 0.00001, 1e15, 9999999999999998.0, 1e23, 2.5e20, 1 / 3, 2 / 3,
        9007199254740993.0, 2.2250738585072014e-308, 1e-310, 123456789.125, 1e300, -1e-300,
        float("inf"), float("-inf"), float("nan"),
    ]
    rng = random.Random(20260129)
    for _ in range(300):
        (value,) = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))
        values.append(value)
    for _ in range(300):
        values.append(round(rng.uniform(-1e6, 1e6), rng.randrange(0, 8)) * 10.0 ** rng.randrange(-25, 25))
    return [{"bits": struct.pack(">d", v).hex(), "expected": json.dumps(v)} for v in values]


DUMPS_TEXTS = [
    "{}", "[]", "null", "true", "false", "0", "-0", "-7", "18446744073709551615", "-9223372036854775808",
    "1.5", "-0.0", "1E2", "1.0e-7", "1e400", "-1e400", '"text"',
    '{"b": 1, "a": [1, 2.5, "x", null, true, false, [], {}], "c": {"z": {"y": []}, "e": 1e16}}',
    '[[[]], [{}], [1, [2, [3]]]]',
    '{"\\u00e9": 1, "z": 2, "\\ue000": 3, "\\uffff": 4, "\\ud800\\udc00": 5, "A": 6, "": 7}',
    '{"url": "https://1.2.3.4:40123", "cost": 242.0, "endpoint": "ep", "reqnum": 5, "request_idx": 7}',
]


def dumps_cases():
    texts = DUMPS_TEXTS
    cases = []
    for text in texts:
        for sort_keys in (False, True):
            expected = json.dumps(json.loads(text), indent=4, sort_keys=sort_keys)
            cases.append({"input_json": text, "sort_keys": sort_keys, "expected_hex": hexed(expected)})
    return cases


# What the worker answers with itself: PyWorker's web.json_response(data) is json.dumps(data) with the
# default separators (", ", ": "); a compact form is there for bodies that want it.
ANSWER_TEXTS = DUMPS_TEXTS + [
    '{"session_id": "0123456789abcdef0123456789abcdef", "expiration": 1796182829.4837987}',
    '{"lifetime": 30, "expiration": 1796182829.0, "created_at": 1796182799.4837987}',
    '{"lifetime": 30.0, "auth_data": {"cost": 242.0, "reqnum": 5, "url": "http://x:1"}, "on_close_payload": null}',
    '{"error": "caf\\u00e9 \\"quoted\\"\\n\\u007f \\ud83d\\ude00"}',
    '{"ended": true, "removed_session": "abc"}',
    '{"a": 0.1, "b": 1e-05, "c": 1e16, "d": 123456789012345.6, "e": -0.0, "f": [1e22, 5e-324]}',
]


def answer_dumps_cases():
    cases = []
    for text in ANSWER_TEXTS:
        value = json.loads(text)
        cases.append({"input_json": text, "default_hex": hexed(json.dumps(value)),
                      "compact_hex": hexed(json.dumps(value, separators=(",", ":")))})
    return cases


def error_body_cases():
    messages = ["invalid JSON", "no route /caf\u00e9", "quote \" and backslash \\", "\x00\x1f\x7f",
                "\U0001f600 emoji"]
    return [{"message_hex": hexed(m), "expected_hex": hexed(json.dumps({"error": m}))} for m in messages]


URLS = ["https://1.2.3.4:40123", "http://x:1", "http://[::1]:8000/path?q=\"a\"&b=\\", "https://caf\u00e9.example/\U0001f600",
        "http://tab\there/\x7f"]

AUTH_DATAS = [
    {"cost": 242.0, "endpoint": "ep", "reqnum": 5, "request_idx": 7, "url": "http://x:1", "signature": "s",
     "__request_id": "r-1"},
    {"url": "https://1.2.3.4:40123", "reqnum": 1234567, "endpoint": "my endpoint", "cost": 100, "request_idx": 0,
     "extra": {"not": "signed"}},
    {"cost": 1e16, "endpoint": "\u00e9\U0001f600", "reqnum": -3, "request_idx": 18446744073709551615, "url": "u"},
    {"cost": 0.1, "endpoint": None, "reqnum": True, "url": ["a", {"b": 1.5e-05}]},
    {"signature": "only this"},
]


def message_cases():
    return {
        "url_messages": [{"url_hex": hexed(u), "expected_hex": hexed(url_message(u))} for u in URLS],
        "all_fields_messages": [{"auth_data_json": ascii_json(a), "expected_hex": hexed(all_fields_message(a))}
                                for a in AUTH_DATAS],
    }


def b64decode_cases():
    texts = [
        "", "QUJD", "QUI=", "QQ==", "QUI", "QQ", "Q", "Q=", "Q==", "Q===", "QUI=QUJD", "QU=I", "QUJD=", "=QUJD",
        "QU==", "QUI==", "QUJD\n", "QUI=x", "QU=I=", "QU!=", "QU!==", "Q U J D", "QU\nJD\n", "==", "====",
        "QUJDRA", "QUJDRA=", "QUJDRA==", "QUJDRA===", "QUJDRA=x=", "QR==", "QUJ=", "-_-_", "QUJD====QUJD",
        "QUJ\x00D", "*QUJD*", "\u00e9QUJD", "QUJD\u00e9", "QUJ\x7fD",
    ]
    rng = random.Random(1729)
    for _ in range(400):
        texts.append("".join(rng.choice("QUJDab+/09==\n!-") for _ in range(rng.randrange(0, 14))))
    cases = []
    for text in texts:
        try:
            expected = base64.b64decode(text).hex()
        except (binascii.Error, ValueError):
            expected = None
        cases.append({"input_hex": hexed(text), "expected_hex": expected})
    return cases


def public_key_pems(key):
    public = key.publickey()
    spki = public.export_key("PEM").decode()
    pkcs1 = PEM.encode(DerSequence([public.n, public.e]).encode(), "RSA PUBLIC KEY")
    assert spki.startswith("-----BEGIN PUBLIC KEY-----") and pkcs1.startswith("-----BEGIN RSA PUBLIC KEY-----")
    assert RSA.import_key(spki) == public and RSA.import_key(pkcs1) == public
    return spki, pkcs1


def signature_with_leading_zero(key):
    """A url whose signature starts with a zero byte: dropping it shows whether length is checked."""
    for n in range(100000):
        url = f"http://zero.example:{n}"
        raw = base64.b64decode(sign(key, url_message(url).encode()))
        if raw[0] == 0:
            return url, raw
    raise RuntimeError("no signature with a leading zero byte found")


def signature_cases(key):
    cases = []

    def add(name, scheme, auth, expect_valid):
        message = url_message(auth["url"]) if scheme == "url" else all_fields_message(auth)
        valid = pyworker_verify(key, message, auth["signature"])
        assert valid == expect_valid, f"vector '{name}': PyWorker says {valid}, expected {expect_valid}"
        cases.append({"name": name, "scheme": scheme, "auth_data_json": ascii_json(auth), "valid": valid})

    def url_auth(url, signature):
        return {"cost": 100, "endpoint": "ep", "reqnum": 1, "request_idx": 0, "url": url, "signature": signature,
                "__request_id": "abc"}

    for url in URLS:
        add(f"url scheme: {url!r}", "url", url_auth(url, sign(key, url_message(url).encode())), True)
    good_sig = sign(key, url_message(URLS[0]).encode())
    raw = base64.b64decode(good_sig)
    tampered = base64.b64encode(raw[:100] + bytes([raw[100] ^ 1]) + raw[101:]).decode()
    add("one bit flipped", "url", url_auth(URLS[0], tampered), False)
    add("signature of another url", "url", url_auth(URLS[1], good_sig), False)
    add("url differs in one character", "url", url_auth(URLS[0] + "/", good_sig), False)
    add("base64 ending one character into a group", "url", url_auth(URLS[0], good_sig.rstrip("=")[:-1]), False)
    add("base64 padding replaced by a data character", "url", url_auth(URLS[0], good_sig.rstrip("=") + "A"), False)
    add("base64 without its padding", "url", url_auth(URLS[0], good_sig.rstrip("=")), False)
    add("base64 of a non-ASCII character", "url", url_auth(URLS[0], good_sig[:10] + "\u00e9" + good_sig[10:]), False)
    add("empty signature", "url", url_auth(URLS[0], ""), False)
    add("base64 with line breaks and junk", "url",
        url_auth(URLS[0], "\n".join(good_sig[i:i + 64] for i in range(0, len(good_sig), 64)) + "\n*"), True)
    add("data after the padding is ignored", "url", url_auth(URLS[0], good_sig + "QUJD"), True)
    add("signature over the url without ensure_ascii", "url",
        url_auth(URLS[3], sign(key, json.dumps({"url": URLS[3]}, indent=4, sort_keys=True,
                                               ensure_ascii=False).encode())), False)
    add("signature over compact JSON", "url",
        url_auth(URLS[0], sign(key, json.dumps({"url": URLS[0]}).encode())), False)
    add("DigestInfo without NULL parameters", "url",
        url_auth(URLS[0], sign_without_null_params(key, url_message(URLS[0]).encode())), True)
    zero_url, zero_raw = signature_with_leading_zero(key)
    add("signature with a leading zero byte", "url", url_auth(zero_url, base64.b64encode(zero_raw).decode()), True)
    add("signature with its leading zero byte dropped", "url",
        url_auth(zero_url, base64.b64encode(zero_raw[1:]).decode()), False)
    add("signature with an extra leading zero byte", "url",
        url_auth(URLS[0], base64.b64encode(b"\x00" + raw).decode()), False)
    add("signature equal to the modulus", "url",
        url_auth(URLS[0], base64.b64encode(key.n.to_bytes(key.size_in_bytes(), "big")).decode()), False)

    for i, auth in enumerate(AUTH_DATAS[:3]):
        signed = dict(auth, signature=sign(key, all_fields_message(auth).encode()))
        add(f"fields scheme #{i}", "fields", signed, True)
        add(f"fields scheme #{i} with the url scheme's message", "url", signed, False)
        unsigned_change = dict(signed, __request_id="other", extra=1)
        add(f"fields scheme #{i}, unsigned keys changed", "fields", unsigned_change, True)
        add(f"fields scheme #{i}, reqnum changed", "fields", dict(signed, reqnum=auth["reqnum"] + 1), False)
    as_int = dict(AUTH_DATAS[0], signature=sign(key, all_fields_message(AUTH_DATAS[0]).encode()), cost=242)
    add("fields scheme: 242.0 signed, 242 sent", "fields", as_int, False)
    return cases


def main():
    key = RSA.generate(2048)
    spki, pkcs1 = public_key_pems(key)
    vectors = {
        "public_key_spki_pem": spki,
        "public_key_pkcs1_pem": pkcs1,
        "json_strings": json_string_cases(),
        "floats": float_cases(),
        "dumps": dumps_cases(),
        "answer_dumps": answer_dumps_cases(),
        "error_bodies": error_body_cases(),
        **message_cases(),
        "b64decode": b64decode_cases(),
        "signatures": signature_cases(key),
    }
    with open(sys.argv[1], "w", encoding="ascii") as out:
        json.dump(vectors, out, indent=1)


if __name__ == "__main__":
    main()
