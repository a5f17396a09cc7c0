"""Builders for small Strato exports written on the spot (bad-input cases, property tests)."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import pytest

DATA = Path(__file__).resolve().parent.parent / "data" / "strato"


def order_xml(
    number="1001",
    date="2024-03-05T10:00:00+01:00",
    lines=(("SKU-1", "Theepot", "1", "34.50", "21", "34.50"),),
    grand="34.50",
    method="PayPal",
    country="NL",
    extra="",
    company="",
    last_name="Jansen",
    tax_model="gross",
    total_tax=None,
) -> str:
    """One <Order>; ``lines`` are (sku, name, quantity, unit price, rate, line total) texts (None = omit)."""
    items = []
    for sku, name, qty, unit, rate, total in lines:
        fields = [
            ("ProductNumber", sku),
            ("Name", name),
            ("Quantity", qty),
            ("UnitPrice", unit),
            ("TaxRate", rate),
            ("LineTotal", total),
        ]
        inner = "".join(f"<{t}>{escape(v)}</{t}>" for t, v in fields if v is not None)
        items.append(f"<LineItem>{inner}</LineItem>")
    parts = [
        f"<OrderNumber>{escape(number)}</OrderNumber>" if number is not None else "",
        f"<CreationDate>{date}</CreationDate>" if date is not None else "",
        f"<TaxModel>{tax_model}</TaxModel>",
        "<BillingAddress>"
        f"<Company>{escape(company)}</Company><FirstName>Kees</FirstName><LastName>{escape(last_name)}</LastName>"
        "<Street>Markt 1</Street><Zipcode>1234 AB</Zipcode><City>Utrecht</City>"
        f"<CountryID>{country}</CountryID>"
        "</BillingAddress>",
        f"<PaymentMethod>{escape(method)}</PaymentMethod>",
        f"<LineItems>{''.join(items)}</LineItems>",
        extra,
        f"<TotalTax>{total_tax}</TotalTax>" if total_tax is not None else "",
        f"<GrandTotal>{grand}</GrandTotal>" if grand is not None else "",
    ]
    return "<Order>\n" + "\n".join(p for p in parts if p) + "\n</Order>\n"


def orders_document(*orders: str, declaration: str = '<?xml version="1.0" encoding="UTF-8"?>') -> str:
    return declaration + "\n<Orders>\n" + "".join(orders) + "</Orders>\n"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def build():
    """``build.order(...)``, ``build.document(...)`` and ``build.write(tmp_path, name, text_or_bytes)``."""

    class Build:
        order = staticmethod(order_xml)
        document = staticmethod(orders_document)

        @staticmethod
        def write(directory: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
            path = directory / name
            if isinstance(content, str):
                content = content.encode(encoding)
            path.write_bytes(content)
            return path

    return Build
