"""File conversion in the browser: upload Strato exports, get the Acumulus import files as one zip.

The conversion is the same ``koppeling.convert.convert_strato`` the CLI runs, so the page shows the
same summary and the same located errors. Files are data in flight (design: GDPR): uploads are
converted in a temporary directory; only the zip and the summary are kept, under the data
directory, per user, for ``KEEP_SECONDS``, and removed on the next upload after that.

The page's history lists each conversion for ``HISTORY_DAYS``: when, which files, how many
invoices, their total, how many rejected — counts and file names only, no customer data — with a
link to the result while it is kept.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from koppeling.connectors.acumulus.csvimport import INVOICE_COLUMNS, RELATION_COLUMNS
from koppeling.convert import StratoOptions, convert_strato
from koppeling.sync.lookups import VatChecks

KEEP_SECONDS = 3600
HISTORY_DAYS = 90
HISTORY_MAX = 50
#: tokens are ``secrets.token_urlsafe(16)`` (22 characters); a longer one is never ours (and a
#: very long one would make the file system refuse the path: a 500 instead of a 404)
_TOKEN_MAX = 64
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class StratoForm(forms.Form):
    customers = forms.FileField(label=_("Customers export (Klanten.csv)"), required=False)
    orders = forms.FileField(label=_("Orders export (Bestellingen.xml)"), required=False)
    cost_center = forms.CharField(label=_("Cost center in Acumulus"), required=False, max_length=100)
    prefix = forms.CharField(
        label=_("Order number prefix for this shop (e.g. WA)"), required=False, max_length=10
    )
    limit = forms.IntegerField(
        label=_("Convert at most this many invoices (trial account: 40)"), required=False, min_value=1
    )
    shop_country = forms.CharField(label=_("Country of the shop"), initial="NL", max_length=2, min_length=2)

    def clean(self):
        data = super().clean()
        if not data.get("customers") and not data.get("orders"):
            raise forms.ValidationError(_("Choose the customers export, the orders export, or both."))
        return data


def _root(request: HttpRequest) -> Path:
    base = Path(getattr(settings, "DATA_DIR", tempfile.gettempdir()))
    return base / "convert" / str(request.user.pk)


def _purge(root: Path) -> None:
    if not root.is_dir():
        return
    limit = time.time() - KEEP_SECONDS
    for entry in root.iterdir():
        if entry.is_dir() and entry.stat().st_mtime < limit:
            shutil.rmtree(entry, ignore_errors=True)


def _history_file(request: HttpRequest) -> Path:
    return _root(request) / "history.json"


def history(request: HttpRequest) -> list[dict]:
    """This user's conversions, newest first, each saying whether its result is still kept."""
    try:
        entries = json.loads(_history_file(request).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    limit = time.time() - HISTORY_DAYS * 86400
    shown = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or float(entry.get("at", 0)) < limit:
            continue
        token = str(entry.get("token", ""))
        kept = (
            bool(token) and set(token) <= _TOKEN_CHARS and (_root(request) / token / "summary.json").is_file()
        )
        shown.append(
            {**entry, "when": dt.datetime.fromtimestamp(float(entry["at"]), tz=dt.UTC), "kept": kept}
        )
    return shown


def _remember(request: HttpRequest, token: str, summary: dict) -> None:
    invoices = [o for o in summary.get("outputs", []) if o.get("kind") == "invoices"]
    entry = {
        "token": token,
        "at": time.time(),
        "files": [i.get("file", "") for i in summary.get("inputs", [])],
        "exit_code": summary.get("exit_code"),
        "invoices": sum(int(o.get("invoices", 0)) for o in invoices),
        "total_inc": summary.get("totals", {}).get("output", {}).get("total_inc", "0"),
        "errors": summary.get("errors", 0),
        "warnings": summary.get("warnings", 0),
    }
    entries = [{k: v for k, v in e.items() if k not in ("when", "kept")} for e in history(request)]
    path = _history_file(request)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps([entry, *entries][:HISTORY_MAX]), encoding="utf-8")
    partial.replace(path)


def _result_dir(request: HttpRequest, token: str) -> Path:
    if not 0 < len(token) <= _TOKEN_MAX or not set(token) <= _TOKEN_CHARS:
        raise Http404
    path = _root(request) / token
    if not (path / "summary.json").is_file():
        raise Http404
    return path


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    form = StratoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        root = _root(request)
        _purge(root)
        token = secrets.token_urlsafe(16)
        keep = root / token
        keep.mkdir(parents=True)
        data = form.cleaned_data
        options = StratoOptions(
            cost_center=data["cost_center"].strip(),
            prefix=data["prefix"].strip(),
            limit=data["limit"],
            shop_country=data["shop_country"].strip().upper(),
            vat_check=VatChecks(),  # VIES, through the cache every link shares
        )
        with tempfile.TemporaryDirectory(prefix="koppeling-convert-") as tmp:
            out = Path(tmp)
            customers, orders = data.get("customers"), data.get("orders")
            summary = convert_strato(
                customers=customers,
                orders=orders,
                out_dir=out,
                options=options,
                customers_label=customers.name if customers else None,
                orders_label=orders.name if orders else None,
            )
            with zipfile.ZipFile(keep / "acumulus.zip", "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for name in summary.files:
                    if (out / name).is_file():
                        zf.write(out / name, arcname=name)
        shown = summary.as_dict()
        (keep / "summary.json").write_text(json.dumps(shown, ensure_ascii=False), encoding="utf-8")
        _remember(request, token, shown)
        return redirect("convert:result", token=token)
    return render(
        request,
        "web/convert/upload.html",
        {
            "form": form,
            "relation_columns": RELATION_COLUMNS,
            "invoice_columns": INVOICE_COLUMNS,
            "history": history(request),
        },
    )


@login_required
def result(request: HttpRequest, token: str) -> HttpResponse:
    path = _result_dir(request, token)
    summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    outputs = summary["outputs"]
    return render(
        request,
        "web/convert/result.html",
        {
            "token": token,
            "summary": summary,
            "relations": [o for o in outputs if o["kind"] == "relations"],
            "invoices": [o for o in outputs if o["kind"] == "invoices"],
            "errors": [i for i in summary["issues"] if i["severity"] == "error"],
            "warnings": [i for i in summary["issues"] if i["severity"] == "warning"],
            "has_files": any(o["kind"] in ("relations", "invoices") for o in outputs),
        },
    )


@login_required
def download(request: HttpRequest, token: str) -> FileResponse:
    path = _result_dir(request, token) / "acumulus.zip"
    if not path.is_file():
        raise Http404
    return FileResponse(
        path.open("rb"), as_attachment=True, filename="acumulus-import.zip", content_type="application/zip"
    )
