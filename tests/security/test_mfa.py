"""Second factors over HTTP: required for OMB admins who sign in with a password, optional for others;
codes computed here from the app's key; recovery codes; nothing else opens until the second step is done."""

import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from audit.models import AuditEvent
from tests import factories

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def mfa_required(settings):
    settings.MFA_REQUIRED_FOR_OMB_ADMINS = True  # the production setting (test_sign_in_policy checks the default)


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def wait_out_the_throttle() -> None:
    time.sleep(1.1)  # django-otp makes the next try wait 1 s after a failure (then 2, 4, ...)


def sign_in(client, user, next_url="/cards/"):
    return client.post(
        f"{LOGIN}?next={next_url}", {"username": user.username, "password": factories.PASSWORD, "next": next_url}
    )


def enrol_app(client) -> TOTPDevice:
    assert client.get("/accounts/mfa/app/").status_code == 200
    device = TOTPDevice.objects.get(confirmed=False)
    response = client.post("/accounts/mfa/app/", {"name": "Work phone", "code": code_for(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    return device


def test_an_omb_admin_must_add_a_second_factor_and_then_gets_recovery_codes(client, admin_user):
    response = sign_in(client, admin_user)
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(admin_user.pk)
    # Signed in, but nothing opens before a second factor is added: pages, the admin, the API.
    response = client.get("/cards/")
    assert response.status_code == 303 and response["Location"] == "/accounts/mfa/setup/?next=%2Fcards%2F"
    assert client.get("/admin/")["Location"].startswith("/accounts/mfa/setup/")
    api = client.get("/api/v1/me/")
    assert api.status_code == 403 and api["Content-Type"] == "application/problem+json"
    assert "Add a second factor to continue" in client.get("/accounts/mfa/setup/").content.decode()

    response = client.post("/accounts/mfa/app/", {"name": "Work phone", "code": "000000"})
    assert response.status_code == 400 and "That code did not work" in response.content.decode()
    assert not TOTPDevice.objects.filter(confirmed=True).exists()
    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    wait_out_the_throttle()
    key = "".join(client.get("/accounts/mfa/app/").context["key"].split())
    assert key == __import__("base64").b32encode(device.bin_key).decode()
    response = client.post("/accounts/mfa/app/", {"name": "Work phone", "code": code_for(device)})
    assert response["Location"] == "/accounts/mfa/recovery-codes/"
    codes = client.get("/accounts/mfa/recovery-codes/").context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    # Shown once.
    assert client.get("/accounts/mfa/recovery-codes/").context["codes"] is None
    assert client.get("/cards/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200
    assert AuditEvent.objects.filter(
        action="auth.second_factor_changed", actor=admin_user, details={"kind": "totp", "change": "added"}
    ).exists()


def test_the_next_sign_in_asks_for_a_code_and_counts_failures(client, admin_user):
    sign_in(client, admin_user)
    device = enrol_app(client)
    client.post("/accounts/logout/")

    assert sign_in(client, admin_user)["Location"] == "/cards/"
    response = client.get("/cards/")
    assert response.status_code == 303 and response["Location"] == "/accounts/mfa/?next=%2Fcards%2F"
    # Adding another factor needs the one it has first.
    assert client.get("/accounts/mfa/app/")["Location"].startswith("/accounts/mfa/?")
    assert client.get("/accounts/mfa/setup/")["Location"].startswith("/accounts/mfa/?")

    response = client.post("/accounts/mfa/", {"code": "123456", "next": "/cards/"})
    assert response.status_code == 400 and "That code did not work" in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.second_factor_failed", outcome="failure", actor=admin_user).exists()
    assert client.get("/cards/").status_code == 303
    wait_out_the_throttle()

    response = client.post("/accounts/mfa/", {"code": code_for(device, steps_ahead=1), "next": "/cards/"})
    assert response.status_code == 303 and response["Location"] == "/cards/"
    assert client.get("/cards/").status_code == 200
    event = AuditEvent.objects.get(action="auth.second_factor", actor=admin_user)
    assert event.outcome == "success" and event.details == {"kind": "totp"}


def test_a_recovery_code_works_once(client, admin_user):
    sign_in(client, admin_user)
    enrol_app(client)
    code = client.get("/accounts/mfa/recovery-codes/").context["codes"][0]
    for attempt in range(2):
        client.post("/accounts/logout/")
        sign_in(client, admin_user)
        response = client.post("/accounts/mfa/", {"code": code.upper(), "next": "/"})
        if attempt == 0:
            assert response.status_code == 303
            assert client.get("/").status_code == 200
            assert StaticToken.objects.filter(device__user=admin_user).count() == 9
        else:
            assert response.status_code == 400
            assert client.get("/").status_code == 303


def test_others_are_not_asked_unless_they_added_a_factor(client, deputy):
    sign_in(client, deputy)
    assert client.get("/cards/").status_code == 200
    client.get("/accounts/mfa/setup/")
    device = enrol_app(client)
    client.post("/accounts/logout/")
    sign_in(client, deputy)
    assert client.get("/cards/")["Location"] == "/accounts/mfa/?next=%2Fcards%2F"
    client.post("/accounts/mfa/", {"code": code_for(device, steps_ahead=1)})
    assert client.get("/cards/").status_code == 200
    # A deputy may remove the last factor; an OMB admin may not.
    response = client.post("/accounts/mfa/remove/", {"device": device.persistent_id})
    assert response.status_code == 302 and not TOTPDevice.objects.filter(user=deputy).exists()


def test_an_omb_admin_keeps_the_last_factor(client, admin_user):
    sign_in(client, admin_user)
    device = enrol_app(client)
    client.post("/accounts/mfa/remove/", {"device": device.persistent_id}, follow=True)
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    with pytest.raises(Exception, match="keep at least one"):
        services.second_factor_remove(user=admin_user, persistent_id=device.persistent_id)


def test_the_admins_own_sign_in_page_asks_too(client, admin_user):
    response = client.post("/admin/login/?next=/admin/", {"username": "omb.admin", "password": factories.PASSWORD})
    assert response.status_code == 302
    assert client.get("/admin/")["Location"].startswith("/accounts/mfa/setup/")


def test_without_the_requirement_an_omb_admin_is_not_stopped(client, admin_user, settings):
    settings.MFA_REQUIRED_FOR_OMB_ADMINS = False
    sign_in(client, admin_user)
    assert client.get("/cards/").status_code == 200
