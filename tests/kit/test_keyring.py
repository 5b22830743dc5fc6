"""Master key, HKDF subkeys and at-rest encryption (security-and-limits.md §6, §7)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import stat
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from releasegate.kit.keyring import (
    Keyring,
    SecretKeyError,
    load_or_create_key_file,
    parse_master_key,
)
from releasegate.settings import Settings

MASTER = bytes(range(32))
OTHER_MASTER = bytes(range(1, 33))
TEAM_ID = "0B5C7A52-3F0E-4C1A-9A57-2F5D9A0C1E11"
LICENSE_KEY = "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY"
CIPHERTEXT = re.compile(r"^v1:([0-9a-f]{8}):([0-9a-f]{24}):([0-9a-f]*):([0-9a-f]{32})$")
DECRYPT_FAILURES = (ValueError, InvalidTag)


def derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


# --- parse_master_key ---------------------------------------------------------------------


def test_parse_accepts_64_lowercase_hex() -> None:
    assert parse_master_key(MASTER.hex()) == MASTER


def test_parse_accepts_64_uppercase_hex() -> None:
    assert parse_master_key(MASTER.hex().upper()) == MASTER


def test_parse_strips_surrounding_whitespace() -> None:
    assert parse_master_key(f"  {MASTER.hex()}\n") == MASTER


def test_parse_accepts_padded_base64_of_32_bytes() -> None:
    assert parse_master_key(base64.b64encode(MASTER).decode()) == MASTER


def test_parse_accepts_unpadded_base64_of_32_bytes() -> None:
    assert parse_master_key(base64.b64encode(MASTER).decode().rstrip("=")) == MASTER


def test_parse_accepts_base64_with_plus_and_slash() -> None:
    raw = bytes([0xFB, 0xFF, 0xBF] * 11)  # encodes to "+/+/..."
    text = base64.b64encode(raw).decode()
    assert "+" in text and "/" in text
    assert parse_master_key(text) == raw


def test_parse_accepts_base64url_of_32_bytes() -> None:
    raw = bytes([0xFB, 0xFF, 0xBF] * 11)
    text = base64.urlsafe_b64encode(raw).decode()
    assert "-" in text and "_" in text
    assert parse_master_key(text) == raw


def test_parse_accepts_base64_longer_than_32_bytes() -> None:
    raw = hashlib.sha512(b"long key").digest()
    assert parse_master_key(base64.b64encode(raw).decode()) == raw


def test_parse_decodes_base64url_of_48_bytes_to_the_same_bytes() -> None:
    raw = hashlib.sha512(b"releasegate-test-2").digest()[:48]
    text = base64.urlsafe_b64encode(raw).decode()
    assert "-" in text or "_" in text
    assert parse_master_key(text) == raw


def test_parse_rejects_base64_of_31_bytes() -> None:
    with pytest.raises(SecretKeyError, match="RELEASEGATE_SECRET_KEY"):
        parse_master_key(base64.b64encode(bytes(31)).decode())


def test_parse_rejects_40_hex_characters() -> None:
    # Too short as hex, and as base64 it decodes to only 30 bytes.
    with pytest.raises(SecretKeyError, match="RELEASEGATE_SECRET_KEY"):
        parse_master_key("ab" * 20)


def test_parse_rejects_empty_text() -> None:
    with pytest.raises(SecretKeyError, match="RELEASEGATE_SECRET_KEY"):
        parse_master_key("")


def test_parse_rejects_short_junk() -> None:
    with pytest.raises(SecretKeyError, match="RELEASEGATE_SECRET_KEY"):
        parse_master_key("not a key!")


def test_parse_rejects_long_text_that_is_not_base64() -> None:
    sentence = (
        "this is definitely not a valid key, it is only a long english sentence about nothing!!"
    )
    with pytest.raises(SecretKeyError, match="RELEASEGATE_SECRET_KEY"):
        parse_master_key(sentence)


def test_parse_rejects_non_ascii_text() -> None:
    with pytest.raises(SecretKeyError, match="RELEASEGATE_SECRET_KEY"):
        parse_master_key("é" * 64)


# --- encryption -----------------------------------------------------------------------------


def test_encrypt_decrypt_round_trip() -> None:
    keyring = Keyring(MASTER)
    sealed = keyring.encrypt(b"secret payload", "license-key:t:l")
    assert keyring.decrypt(sealed, "license-key:t:l") == b"secret payload"


def test_round_trip_with_another_keyring_from_the_same_master() -> None:
    sealed = Keyring(MASTER).encrypt(b"secret payload", "aad")
    assert Keyring(MASTER).decrypt(sealed, "aad") == b"secret payload"


def test_round_trip_of_empty_plaintext() -> None:
    keyring = Keyring(MASTER)
    assert keyring.decrypt(keyring.encrypt(b"", "aad"), "aad") == b""


def test_ciphertext_format() -> None:
    sealed = Keyring(MASTER).encrypt(b"twelve bytes", "aad")
    match = CIPHERTEXT.match(sealed)
    assert match is not None, sealed
    assert len(match.group(3)) == 2 * len(b"twelve bytes")


def test_kid_is_first_8_hex_of_sha256_of_at_rest_subkey() -> None:
    sealed = Keyring(MASTER).encrypt(b"x", "aad")
    expected = hashlib.sha256(derive(MASTER, b"releasegate/v1/at-rest")).hexdigest()[:8]
    assert sealed.split(":")[1] == expected


def test_ciphertext_is_aes_256_gcm_under_the_at_rest_subkey() -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    sealed = Keyring(MASTER).encrypt(b"payload", "team-private-key:t")
    _v, _kid, nonce, body, tag = sealed.split(":")
    subkey = derive(MASTER, b"releasegate/v1/at-rest")
    plain = AESGCM(subkey).decrypt(
        bytes.fromhex(nonce), bytes.fromhex(body + tag), b"team-private-key:t"
    )
    assert plain == b"payload"


def test_nonce_is_fresh_for_each_encryption() -> None:
    keyring = Keyring(MASTER)
    first = keyring.encrypt(b"same", "aad").split(":")[2]
    second = keyring.encrypt(b"same", "aad").split(":")[2]
    assert first != second


def test_decrypt_with_wrong_aad_fails() -> None:
    keyring = Keyring(MASTER)
    sealed = keyring.encrypt(b"payload", "license-key:team:license-1")
    with pytest.raises(DECRYPT_FAILURES):
        keyring.decrypt(sealed, "license-key:team:license-2")


def test_decrypt_with_other_master_key_fails() -> None:
    sealed = Keyring(MASTER).encrypt(b"payload", "aad")
    with pytest.raises(DECRYPT_FAILURES):
        Keyring(OTHER_MASTER).decrypt(sealed, "aad")


def test_decrypt_of_tampered_ciphertext_fails() -> None:
    keyring = Keyring(MASTER)
    sealed = keyring.encrypt(b"payload", "aad")
    head, body, tag = sealed.rsplit(":", 2)
    flipped = f"{int(body[:2], 16) ^ 1:02x}" + body[2:]
    with pytest.raises(DECRYPT_FAILURES):
        keyring.decrypt(f"{head}:{flipped}:{tag}", "aad")


def test_decrypt_of_unknown_version_fails() -> None:
    keyring = Keyring(MASTER)
    sealed = keyring.encrypt(b"payload", "aad")
    with pytest.raises(DECRYPT_FAILURES):
        keyring.decrypt("v2" + sealed[2:], "aad")


# --- license lookup -------------------------------------------------------------------------


def test_license_lookup_is_hmac_of_key_and_lowercase_team_id() -> None:
    subkey = derive(MASTER, b"releasegate/v1/license-lookup")
    message = f"{LICENSE_KEY}:{TEAM_ID.lower()}".encode()
    expected = hmac.new(subkey, message, hashlib.sha256).hexdigest()
    assert Keyring(MASTER).license_lookup(LICENSE_KEY, TEAM_ID) == expected


def test_license_lookup_ignores_team_id_case() -> None:
    keyring = Keyring(MASTER)
    assert keyring.license_lookup(LICENSE_KEY, TEAM_ID.upper()) == keyring.license_lookup(
        LICENSE_KEY, TEAM_ID.lower()
    )


def test_license_lookup_differs_per_team() -> None:
    keyring = Keyring(MASTER)
    other_team = "7d1f0e1c-5b2a-4f3e-8c9d-0a1b2c3d4e5f"
    assert keyring.license_lookup(LICENSE_KEY, TEAM_ID) != keyring.license_lookup(
        LICENSE_KEY, other_team
    )


def test_license_lookup_differs_per_master_key() -> None:
    assert Keyring(MASTER).license_lookup(LICENSE_KEY, TEAM_ID) != Keyring(
        OTHER_MASTER
    ).license_lookup(LICENSE_KEY, TEAM_ID)


def test_replay_marker_is_hmac_under_replay_subkey() -> None:
    subkey = derive(MASTER, b"releasegate/v1/replay")
    expected = hmac.new(subkey, b"00ff", hashlib.sha256).hexdigest()
    assert Keyring(MASTER).replay_marker("00ff") == expected


# --- secrets never rendered -----------------------------------------------------------------


def _secret_renderings(master: bytes) -> list[str]:
    subkeys = [
        derive(master, info)
        for info in (
            b"releasegate/v1/at-rest",
            b"releasegate/v1/license-lookup",
            b"releasegate/v1/replay",
        )
    ]
    return [value.hex() for value in [master, *subkeys]] + [repr(master)]


def test_keyring_repr_hides_key_material() -> None:
    rendered = repr(Keyring(MASTER))
    assert all(secret not in rendered for secret in _secret_renderings(MASTER))
    assert "[redacted]" in rendered


def test_keyring_str_hides_key_material() -> None:
    rendered = str(Keyring(MASTER))
    assert all(secret not in rendered for secret in _secret_renderings(MASTER))


def test_settings_repr_hides_secret_key() -> None:
    settings = Settings(secret_key=MASTER.hex(), trusted_license_keys=LICENSE_KEY)
    rendered = repr(settings)
    assert MASTER.hex() not in rendered
    assert LICENSE_KEY not in rendered


# --- key file -------------------------------------------------------------------------------


def test_key_file_is_created_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    load_or_create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_key_file_holds_64_hex_characters(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    load_or_create_key_file(path)
    assert re.fullmatch(r"[0-9a-f]{64}", path.read_text().strip())


def test_key_file_content_is_the_returned_key(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    key = load_or_create_key_file(path)
    assert key == bytes.fromhex(path.read_text().strip())
    assert len(key) == 32


def test_key_file_is_reused_on_second_load(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    first = load_or_create_key_file(path)
    content = path.read_text()
    second = load_or_create_key_file(path)
    assert second == first
    assert path.read_text() == content


def test_existing_key_file_is_read_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text(MASTER.hex() + "\n")
    assert load_or_create_key_file(path) == MASTER


def test_key_file_parent_directories_are_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "secret.key"
    load_or_create_key_file(path)
    assert path.exists()


def test_two_created_key_files_differ(tmp_path: Path) -> None:
    assert load_or_create_key_file(tmp_path / "one.key") != load_or_create_key_file(
        tmp_path / "two.key"
    )
