"""Evidence files and links, the profile and certification setting, sign-in and password reset."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from challenge_cards import services
from challenge_cards.models import Evidence
from tests.factories import PASSWORD


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def add_evidence(client, card, **data):
    return client.post(reverse("challenge_cards:evidence_add", args=[card.pk]), data)


def test_file_evidence_is_stored_under_a_random_name_and_served_only_to_who_may_see_it(
    client, deputy, other_deputy, admin_user, card, media_root
):
    client.force_login(deputy)
    upload = SimpleUploadedFile("Hiring report.pdf", b"%PDF-1.4 report", content_type="application/pdf")
    assert add_evidence(client, card, title="October hiring report", file=upload).status_code == 302
    evidence = Evidence.objects.get()
    assert "Hiring report" not in evidence.file.name
    assert evidence.file.name.startswith("evidence/") and evidence.file.name.endswith(".pdf")
    assert (media_root / evidence.file.name).exists()
    url = reverse("challenge_cards:evidence_download", args=[evidence.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 report"
    assert 'filename="Hiring report.pdf"' in response["Content-Disposition"]
    client.force_login(other_deputy)
    assert client.get(url).status_code == 404
    client.force_login(admin_user)
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    ("name", "size", "message"),
    [("script.exe", 10, "Attach one of these file types"), ("big.pdf", services.EVIDENCE_MAX_BYTES + 1, "larger than")],
)
def test_file_type_and_size_limits(client_for, deputy, card, name, size, message):
    upload = SimpleUploadedFile(name, b"x" * size)
    response = add_evidence(client_for(deputy), card, title="Bad file", file=upload)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Evidence.objects.exists()


def test_link_evidence(client_for, delegate, deputy, card):
    client = client_for(delegate)
    assert add_evidence(client, card, title="Dashboard", url="https://performance.gov/cx").status_code == 302
    evidence = Evidence.objects.get()
    assert (evidence.url, evidence.on_behalf_of) == ("https://performance.gov/cx", deputy)
    assert "https://performance.gov/cx" in client.get(card.get_absolute_url()).content.decode()


def test_evidence_needs_a_file_or_a_link(client_for, deputy, card):
    response = add_evidence(client_for(deputy), card, title="Nothing")
    assert response.status_code == 400
    assert "Attach a file or give a link" in response.content.decode()


def test_profile_shows_roles_and_api_tokens_link(client_for, delegate):
    html = client_for(delegate).get(reverse("agencies:profile")).content.decode()
    assert "Delegate, Department of the Treasury" in html
    assert 'href="/profile/tokens/">API tokens</a>' in html
    assert "Certification of delegates" not in html


def test_deputy_turns_certification_on_and_off(client_for, deputy, agency):
    client = client_for(deputy)
    url = reverse("agencies:certification_set", args=[agency.pk])
    assert client.post(url, {f"a{agency.pk}-certification_required": "on"}).status_code == 302
    agency.refresh_from_db()
    assert agency.certification_required
    assert client.post(url, {}).status_code == 302
    agency.refresh_from_db()
    assert not agency.certification_required


def test_delegate_cannot_turn_certification_off(client_for, delegate, agency):
    agency.certification_required = True
    agency.save()
    assert client_for(delegate).post(reverse("agencies:certification_set", args=[agency.pk]), {}).status_code == 403
    agency.refresh_from_db()
    assert agency.certification_required


def test_pages_need_sign_in(client, card):
    for url in [reverse("challenge_cards:home"), card.get_absolute_url(), reverse("agencies:profile")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_sign_in_page_has_the_official_banner_and_signs_in(client, deputy):
    html = client.get(reverse("login")).content.decode()
    assert "An official website of the United States government" in html
    assert "<title>Sign in | Challenge Cards</title>" in html
    response = client.post(reverse("login"), {"username": "deputy.treas", "password": PASSWORD})
    assert response.status_code == 302
    home = client.get("/").content.decode()
    assert "Deputy secretary, Department of the Treasury" in home
    assert client.post(reverse("logout")).status_code == 302
    assert client.get("/").status_code == 302


def test_failed_sign_in_says_so(client, deputy):
    response = client.post(reverse("login"), {"username": "deputy.treas", "password": "wrong"})
    assert response.status_code == 200
    assert "Sign-in failed" in response.content.decode()


def test_password_reset_by_email(client, deputy):
    response = client.post(reverse("password_reset"), {"email": deputy.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Reset your Challenge Cards password"
    link = next(line for line in message.body.splitlines() if "/accounts/reset/" in line)
    path = link.split("testserver", 1)[1]
    response = client.get(path, follow=True)
    assert "Choose a new password" in response.content.decode()
    new_password = "a brand new long passphrase"
    response = client.post(
        response.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password}
    )
    assert response.status_code == 302
    deputy.refresh_from_db()
    assert deputy.check_password(new_password)


def test_404_page_uses_the_site_layout(client_for, deputy):
    response = client_for(deputy).get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_error_pages_render_without_a_request():
    from django.template.loader import render_to_string

    for name, text in [("500.html", "Something went wrong"), ("403.html", "You cannot do that")]:
        html = render_to_string(name)
        assert text in html
        assert "An official website of the United States government" in html
