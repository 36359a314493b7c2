"""GET /.well-known/jwks.json: the public keys other services verify access tokens with."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings
from django.test import override_settings

from phone_auth.keys import public_pem_from_private
from tests.auth.support import JWKS, PROFILE, refresh
from tests.support import bearer

pytestmark = pytest.mark.django_db

PHONE = "+79110000000"


def private_pem(algorithm: str) -> str:
    key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if algorithm.startswith("RS")
        else ec.generate_private_key(ec.SECP256R1())
    )
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def key_pair_settings(algorithm: str) -> dict:
    private = private_pem(algorithm)
    return {
        **settings.SIMPLE_JWT,
        "ALGORITHM": algorithm,
        "SIGNING_KEY": private,
        "VERIFYING_KEY": public_pem_from_private(private),
    }


def test_no_public_keys_with_a_shared_secret(api_client):
    response = api_client.get(JWKS)

    assert response.status_code == 200
    assert response.json() == {"keys": []}


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_a_key_pair_is_published_and_verifies_access_tokens(api_client, sign_in, algorithm):
    with override_settings(SIMPLE_JWT=key_pair_settings(algorithm)):
        keys = api_client.get(JWKS).json()["keys"]
        signed_in = sign_in(PHONE)
        rotated = refresh(api_client, signed_in["refresh"]).json()
        profile = bearer(rotated["access"]).get(PROFILE)

    assert len(keys) == 1
    jwk = keys[0]
    assert jwk["alg"] == algorithm
    assert jwk["use"] == "sig"
    assert jwk["kid"]
    assert "d" not in jwk  # never the private part
    for access in (signed_in["access"], rotated["access"]):
        header = jwt.get_unverified_header(access)
        assert header["alg"] == algorithm
        assert header["kid"] == jwk["kid"]
        verified = jwt.decode(
            access,
            jwt.PyJWK(jwk).key,
            algorithms=[algorithm],
            audience=settings.SIMPLE_JWT["AUDIENCE"],
            issuer=settings.SIMPLE_JWT["ISSUER"],
        )
        assert verified["token_type"] == "access"
    assert profile.status_code == 200


def test_the_kid_follows_the_key(api_client):
    kids = []
    for _ in range(2):
        with override_settings(SIMPLE_JWT=key_pair_settings("RS256")):
            kids.append(api_client.get(JWKS).json()["keys"][0]["kid"])

    assert kids[0] != kids[1]
    assert api_client.get(JWKS).json() == {"keys": []}


def test_a_token_signed_with_the_old_key_is_refused_after_a_key_change(sign_in):
    access = sign_in(PHONE)["access"]

    with override_settings(SIMPLE_JWT=key_pair_settings("RS256")):
        assert bearer(access).get(PROFILE).status_code == 401
    assert bearer(access).get(PROFILE).status_code == 200
