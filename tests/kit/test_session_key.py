"""Session keys, content-key derivation and challenge signatures (client-api.md §4.5, §5, §8)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from releasegate.kit.session_key import (
    SESSION_KEY_HEX_LENGTH,
    UnreadableSessionKey,
    challenge_signature_valid,
    content_key,
    load_private_key,
    load_public_key,
    make_session_key,
    open_session_key,
    secret_hex,
    sign_challenge,
)
from tests.fixtures import vectors

NODE_OAEP = """
const crypto = require('crypto');
const key = require('fs').readFileSync(process.argv[1], 'utf8');
const out = crypto.publicEncrypt(
  {key, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING}, Buffer.from(process.argv[2], 'hex'));
process.stdout.write(out.toString('hex'));
"""


@pytest.fixture(scope="module")
def private_key() -> RSAPrivateKey:
    return load_private_key(vectors.PRIVATE_PEM)


@pytest.fixture(scope="module")
def public_key() -> RSAPublicKey:
    return load_public_key(vectors.PUBLIC_PEM)


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


# --- derivation -------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", [vectors.SECRET_32, vectors.SECRET_16], ids=["s32", "s16"])
def test_content_key_is_sha256_of_the_hex_text(vector: vectors.SecretVector) -> None:
    assert secret_hex(vector.secret) == vector.shex
    assert content_key(vector.secret) == vector.content_key


def test_shex_of_the_32_byte_vector_is_lowercase_0_to_1f() -> None:
    assert vectors.SECRET_32.shex == "".join(f"{i:02x}" for i in range(32))


# --- opening session keys ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(vectors.SESSION_KEYS))
def test_recorded_session_key_opens_to_its_secret(private_key: RSAPrivateKey, name: str) -> None:
    vector = vectors.SESSION_KEYS[name]
    assert open_session_key(private_key, vector.session_key) == vector.secret


def test_node_and_openssl_vectors_are_present() -> None:
    assert {"cryptography_s32", "node_s32", "openssl_s32"} <= set(vectors.SESSION_KEYS)


def test_uppercase_session_key_is_accepted(private_key: RSAPrivateKey) -> None:
    vector = vectors.SESSION_KEYS["cryptography_s32"]
    assert open_session_key(private_key, vector.session_key.upper()) == vector.secret


@pytest.mark.parametrize("name", sorted(vectors.INVALID_SESSION_KEYS))
def test_invalid_session_key_is_refused(private_key: RSAPrivateKey, name: str) -> None:
    with pytest.raises(UnreadableSessionKey):
        open_session_key(private_key, vectors.INVALID_SESSION_KEYS[name])


def test_invalid_session_key_vectors_cover_the_spec_cases() -> None:
    expected = {"oaep_sha256", "pkcs1v15", "hex_510", "hex_514", "non_hex", "secret_15_bytes"}
    assert set(vectors.INVALID_SESSION_KEYS) == expected
    assert len(vectors.INVALID_SESSION_KEYS["hex_510"]) == 510
    assert len(vectors.INVALID_SESSION_KEYS["hex_514"]) == 514


@pytest.mark.parametrize(
    "session_key",
    [
        "",
        " " + "a" * 511,
        "a" * 511 + "\n",
        "0x" + "a" * 510,
        "é" * 512,
        "ａ" * 512,  # fullwidth letters are not hex digits
    ],
    ids=["empty", "leading-space", "trailing-newline", "0x-prefix", "non-ascii", "fullwidth"],
)
def test_malformed_session_key_is_refused(private_key: RSAPrivateKey, session_key: str) -> None:
    with pytest.raises(UnreadableSessionKey):
        open_session_key(private_key, session_key)


def test_ciphertext_larger_than_the_modulus_is_refused(private_key: RSAPrivateKey) -> None:
    with pytest.raises(UnreadableSessionKey):
        open_session_key(private_key, "f" * SESSION_KEY_HEX_LENGTH)


def test_refusal_message_does_not_repeat_the_key(private_key: RSAPrivateKey) -> None:
    session_key = vectors.INVALID_SESSION_KEYS["pkcs1v15"]
    with pytest.raises(UnreadableSessionKey) as caught:
        open_session_key(private_key, session_key)
    assert session_key[:16] not in str(caught.value)


# --- making session keys ----------------------------------------------------------------------


def test_made_session_key_is_512_lowercase_hex_and_opens(
    private_key: RSAPrivateKey, public_key: RSAPublicKey
) -> None:
    secret, session_key = make_session_key(public_key)
    assert len(secret) == 32
    assert len(session_key) == SESSION_KEY_HEX_LENGTH
    assert session_key == session_key.lower()
    assert open_session_key(private_key, session_key) == secret


def test_made_session_keys_use_fresh_secrets(public_key: RSAPublicKey) -> None:
    assert make_session_key(public_key)[0] != make_session_key(public_key)[0]


def test_made_session_key_uses_oaep_sha1(
    private_key: RSAPrivateKey, public_key: RSAPublicKey
) -> None:
    _, session_key = make_session_key(public_key, vectors.SECRET_16.secret)
    sha1 = hashes.SHA1()  # noqa: S303
    oaep = padding.OAEP(mgf=padding.MGF1(sha1), algorithm=sha1, label=None)
    assert private_key.decrypt(bytes.fromhex(session_key), oaep) == vectors.SECRET_16.secret


def test_session_key_made_by_node_at_runtime_opens(
    private_key: RSAPrivateKey, tmp_path: Path
) -> None:
    node = shutil.which("node")
    if node is None:
        if _ci():
            pytest.fail("node is required under CI=true", pytrace=False)
        pytest.skip("node is not installed")
    key_file = tmp_path / "team_public.pem"
    key_file.write_bytes(vectors.PUBLIC_PEM)
    secret = os.urandom(32)
    done = subprocess.run(
        [node, "-e", NODE_OAEP, str(key_file), secret.hex()],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert open_session_key(private_key, done.stdout.strip()) == secret


# --- challenge signatures ---------------------------------------------------------------------


def test_challenge_signature_matches_the_recorded_one(private_key: RSAPrivateKey) -> None:
    assert sign_challenge(private_key, vectors.CHALLENGE) == vectors.CHALLENGE_SIGNATURE


def test_recorded_signature_is_512_lowercase_hex() -> None:
    signature = vectors.CHALLENGE_SIGNATURE
    assert len(signature) == 512
    assert signature == signature.lower()


def test_recorded_signature_verifies_with_cryptography_directly(public_key: RSAPublicKey) -> None:
    public_key.verify(
        bytes.fromhex(vectors.CHALLENGE_SIGNATURE),
        vectors.CHALLENGE.encode("utf-8"),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )


def test_recorded_signature_verifies_with_openssl(tmp_path: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        if _ci():
            pytest.fail("openssl is required under CI=true", pytrace=False)
        pytest.skip("openssl is not installed")
    (tmp_path / "key.pem").write_bytes(vectors.PUBLIC_PEM)
    (tmp_path / "challenge").write_bytes(vectors.CHALLENGE.encode("utf-8"))
    (tmp_path / "signature").write_bytes(bytes.fromhex(vectors.CHALLENGE_SIGNATURE))
    done = subprocess.run(
        [openssl, "dgst", "-sha256", "-verify", "key.pem", "-signature", "signature", "challenge"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Verified OK"


def test_challenge_signature_valid_accepts_the_recorded_signature(
    public_key: RSAPublicKey,
) -> None:
    assert challenge_signature_valid(public_key, vectors.CHALLENGE, vectors.CHALLENGE_SIGNATURE)


def test_challenge_signature_valid_accepts_uppercase_hex(public_key: RSAPublicKey) -> None:
    signature = vectors.CHALLENGE_SIGNATURE.upper()
    assert challenge_signature_valid(public_key, vectors.CHALLENGE, signature)


def test_challenge_signature_valid_refuses_another_challenge(public_key: RSAPublicKey) -> None:
    signature = vectors.CHALLENGE_SIGNATURE
    assert not challenge_signature_valid(public_key, vectors.CHALLENGE + "x", signature)


@pytest.mark.parametrize(
    "signature",
    ["", "zz" * 256, vectors.CHALLENGE_SIGNATURE[:-1], vectors.CHALLENGE_SIGNATURE[:-2]],
    ids=["empty", "non-hex", "odd-length", "short"],
)
def test_challenge_signature_valid_refuses_malformed_signatures(
    public_key: RSAPublicKey, signature: str
) -> None:
    assert not challenge_signature_valid(public_key, vectors.CHALLENGE, signature)


# --- loading keys -----------------------------------------------------------------------------


def test_public_key_loads_from_base64_of_the_pem(public_key: RSAPublicKey) -> None:
    loaded = load_public_key(vectors.PUBLIC_B64)
    assert loaded.public_numbers() == public_key.public_numbers()


def test_public_key_loads_from_pem_text(public_key: RSAPublicKey) -> None:
    loaded = load_public_key(vectors.PUBLIC_PEM.decode("ascii"))
    assert loaded.public_numbers() == public_key.public_numbers()


def test_public_key_loads_from_wrapped_base64(public_key: RSAPublicKey) -> None:
    b64 = vectors.PUBLIC_B64
    wrapped = "\n".join(b64[i : i + 64] for i in range(0, len(b64), 64)) + "\n"
    assert load_public_key(wrapped).public_numbers() == public_key.public_numbers()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a key",
        "aGVsbG8=",
        vectors.PRIVATE_PEM.decode("ascii"),
        "-----BEGIN PUBLIC KEY-----",
    ],
    ids=["empty", "words", "base64-of-non-pem", "private-key", "truncated-pem"],
)
def test_public_key_refuses_other_text(text: str) -> None:
    with pytest.raises(ValueError, match="public key"):
        load_public_key(text)


def test_private_key_refuses_a_public_key() -> None:
    with pytest.raises(ValueError, match="private key"):
        load_private_key(vectors.PUBLIC_PEM)
