"""The upload page: signed-in only, same summary and errors as the CLI, the files as one zip."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

DATA = Path(__file__).resolve().parent.parent / "data" / "strato"


@pytest.fixture
def data_dir_setting(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


def upload(client, **files):
    payload = {"cost_center": "Webshop A", "prefix": "WA", "shop_country": "NL"}
    for field, (name, content) in files.items():
        payload[field] = SimpleUploadedFile(name, content)
    return client.post(reverse("convert:strato"), payload)


@pytest.mark.django_db
def test_signed_in_only(client):
    response = client.get(reverse("convert:strato"))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.django_db
def test_upload_converts_and_offers_one_zip(client, django_user_model, data_dir_setting):
    user = django_user_model.objects.create_user("owner", password="pw")
    client.force_login(user)
    page = client.get(reverse("convert:strato"))
    assert page.status_code == 200 and b"Klantnummer" in page.content
    response = upload(
        client,
        customers=("Klanten.csv", (DATA / "Klanten.csv").read_bytes()),
        orders=("Bestellingen.xml", (DATA / "Bestellingen.xml").read_bytes()),
    )
    assert response.status_code == 302
    result = client.get(response["Location"])
    html = result.content.decode()
    assert result.status_code == 200
    assert "AcumulusPayPalFacturen.csv" in html and "467.55" in html and 'id="totals-check"' in html
    download = client.get(
        reverse("convert:download", args=[response["Location"].rstrip("/").rsplit("/", 1)[-1]])
    )
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))).namelist()
    assert {
        "AcumulusKlanten.csv",
        "AcumulusPayPalFacturen.csv",
        "AcumulusBankFacturen.csv",
        "conversion-summary.json",
    } <= set(names)
    # another user cannot see or download it
    other = django_user_model.objects.create_user("other", password="pw")
    client.force_login(other)
    assert client.get(response["Location"]).status_code == 404


@pytest.mark.django_db
def test_errors_are_shown_located(client, django_user_model, data_dir_setting):
    client.force_login(django_user_model.objects.create_user("owner", password="pw"))
    xml = (DATA / "Bestellingen.xml").read_bytes().replace(b"<TaxRate>6</TaxRate>", b"<TaxRate>7</TaxRate>")
    response = upload(client, orders=("Bestellingen.xml", xml))
    html = client.get(response["Location"]).content.decode()
    assert 'id="errors"' in html and "unknown VAT rate" in html and "1004" in html
    assert 'id="download"' in html  # the good orders are still offered


@pytest.mark.django_db
def test_unusable_file_and_empty_form(client, django_user_model, data_dir_setting):
    client.force_login(django_user_model.objects.create_user("owner", password="pw"))
    response = upload(client, orders=("Bestellingen.xml", b"%PDF-1.4\n..."))
    html = client.get(response["Location"]).content.decode()
    assert "PDF" in html and 'class="verdict-2"' in html
    response = client.post(reverse("convert:strato"), {"shop_country": "NL"})
    assert (
        response.status_code == 200 and "Kies de klantenexport" in response.content.decode()
    )  # Dutch default


@pytest.mark.django_db
def test_tokens_cannot_reach_other_results_or_paths(client, django_user_model, data_dir_setting):
    owner = django_user_model.objects.create_user("owner", password="pw")
    client.force_login(owner)
    response = upload(client, orders=("Bestellingen.xml", (DATA / "Bestellingen.xml").read_bytes()))
    token = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    other = django_user_model.objects.create_user("other", password="pw")
    client.force_login(other)
    assert client.get(reverse("convert:download", args=[token])).status_code == 404
    # another user's directory by a relative path, and tokens that are not ours at all
    for bad in ("..", f"..%2F{owner.pk}%2F{token}", "x" * 300, "~root", "a.b"):
        for name in ("convert:result", "convert:download"):
            url = reverse(name, args=["TOKEN"]).replace("TOKEN", bad)
            assert client.get(url).status_code == 404, (name, bad)  # "x" * 300 was a 500


@pytest.mark.django_db
def test_history_lists_each_conversion_without_customer_data(
    client, django_user_model, data_dir_setting, monkeypatch
):
    from koppeling.web import convert_views

    user = django_user_model.objects.create_user("owner", password="pw")
    client.force_login(user)
    assert client.get(reverse("convert:strato")).context["history"] == []
    response = upload(client, orders=("Bestellingen.xml", (DATA / "Bestellingen.xml").read_bytes()))
    token = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    page = client.get(reverse("convert:strato"))
    (entry,) = page.context["history"]
    assert entry["token"] == token and entry["kept"] and entry["files"] == ["Bestellingen.xml"]
    assert entry["invoices"] > 0 and entry["total_inc"] != "0"
    assert reverse("convert:result", args=[token]) in page.content.decode()
    stored = (data_dir_setting / "convert" / str(user.pk) / "history.json").read_text()
    assert "@" not in stored  # counts and file names only: no e-mail addresses, no names
    # after the result is purged the entry stays, without its link
    monkeypatch.setattr(convert_views, "KEEP_SECONDS", -1)
    upload(client, orders=("Bestellingen.xml", (DATA / "Bestellingen.xml").read_bytes()))
    first, second = client.get(reverse("convert:strato")).context["history"]
    assert second["token"] == token and not second["kept"] and first["kept"] is True
    other = django_user_model.objects.create_user("other", password="pw")
    client.force_login(other)
    assert client.get(reverse("convert:strato")).context["history"] == []
