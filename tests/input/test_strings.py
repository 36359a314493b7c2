"""Text fields take JSON strings only: a number or a boolean is invalid input, not text."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "body",
    [{"first_name": 0}, {"last_name": True}, {"email": 12}, {"activated_invite_code": 123456}],
)
def test_profile_text_fields_refuse_non_strings(auth_client, body):
    client = auth_client("+79110000001")

    response = client.patch("/api/v1/profile/", body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert set(response.json()["fields"]) == set(body)
    assert client.get("/api/v1/profile/").json()["first_name"] == ""


@pytest.mark.parametrize("value", [123, 1.5, False, ["token"], {"t": 1}])
def test_refresh_must_be_a_string(api_client, value):
    response = api_client.post("/api/v1/auth/token/refresh/", {"refresh": value}, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["refresh"]
