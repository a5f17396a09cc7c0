"""Deterministic demo data for the AccountView simulator (Faker nl_NL, fixed seed).

Ledger accounts, journals, VAT codes and article groups are a plausible Dutch setup ([S]); the
article codes are the same ``SKU-1001…`` as the eAccounting simulator's, so a demo link lines up.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from ._company import MEMORIAL_JOURNAL, SALES_JOURNAL, Company, Posted
from ._tables import BUSINESS_OBJECTS, TABLES

__all__ = ["load_reference", "seed_company"]

_LEDGER = (
    ("1300", "Debiteuren", 3, ""),
    ("1600", "Te betalen BTW hoog", 2, ""),
    ("1610", "Te betalen BTW laag", 2, ""),
    ("8000", "Omzet hoog tarief", 4, "1"),
    ("8010", "Omzet laag tarief", 4, "2"),
    ("8020", "Omzet 0%", 4, "0"),
    ("8100", "Verzendkosten", 4, "1"),
    ("1100", "Bank", 1, ""),
)
_JOURNALS = (
    ("VRK", "Verkoopboek", SALES_JOURNAL, "Verkoop", "1300"),
    ("MEM", "Memoriaal", MEMORIAL_JOURNAL, "Memoriaal", ""),
    ("BNK", "Bank", 1, "Bank", "1100"),
)
_VAT = (
    ("0", "Geen BTW", "0", "8020"),
    ("1", "BTW hoog tarief", "21", "1600"),
    ("2", "BTW laag tarief", "9", "1610"),
)
_GROUPS = (
    ("KLEDING", "Kleding en accessoires"),
    ("WONEN", "Wonen en keuken"),
    ("KANTOOR", "Kantoor"),
    ("ETEN", "Eten en drinken"),
    ("DIENST", "Diensten"),
)
#: (description, price excl. VAT, VAT code, group)
_ARTICLES = (
    ("Katoenen T-shirt", "16.49", "1", "KLEDING"),
    ("Wollen sjaal", "28.51", "1", "KLEDING"),
    ("Keramieken mok", "10.70", "1", "WONEN"),
    ("Notitieboek A5", "7.02", "1", "KANTOOR"),
    ("Vulpen staal", "22.31", "1", "KANTOOR"),
    ("Canvas tas", "12.39", "1", "KLEDING"),
    ("Geurkaars vijg", "18.60", "1", "WONEN"),
    ("Theedoek linnen", "8.22", "1", "WONEN"),
    ("Houten snijplank", "32.23", "1", "WONEN"),
    ("Fietsbel retro", "9.30", "1", "KANTOOR"),
    ("Biologische koffie 500g", "8.21", "2", "ETEN"),
    ("Losse thee rooibos", "5.96", "2", "ETEN"),
    ("Chocoladereep puur", "3.20", "2", "ETEN"),
    ("Honing 450g", "7.29", "2", "ETEN"),
    ("Kookboek Nederlands", "27.51", "2", "KANTOOR"),
    ("Stroopwafels 8st", "3.90", "2", "ETEN"),
    ("Cadeaubon", "25.00", "0", "DIENST"),
    ("Montage aan huis", "45.00", "1", "DIENST"),
)


def _blank(table: str) -> dict:
    return {name: None for name in TABLES[table]}


def load_reference(company: Company) -> None:
    stamp = dt.datetime(2025, 1, 1, 9, 0, 0)
    for number, name, kind, vat in _LEDGER:
        company.ledger[number] = {
            **_blank("LEDGER"),
            "ACCT_NR": number,
            "ACCT_NAME": name,
            "ACCT_TYPE": kind,
            "VAT_CODE": vat,
            "REC_BLK": False,
        }
    for code, name, kind, text, account in _JOURNALS:
        company.journals[code] = {
            **_blank("DAILY"),
            "DJ_CODE": code,
            "DJ_NAME": name,
            "DJ_TYPE": kind,
            "DJ_TYPEV": text,
            "DJ_ACCT": account,
        }
    for code, name, pct, account in _VAT:
        company.vat[code] = {
            **_blank("VAT"),
            "VAT_CODE": code,
            "VAT_NAME": name,
            "VAT_PCT": Decimal(pct),
            "VAT_TYPE": 1,
            "CALC_TYPE": 1,
            "VAT_ACCT": account,
            "FRM_CODE": "1A",
            "IS_REVERSE": False,
        }
    for code, desc in _GROUPS:
        company.groups[code] = {
            **_blank("ART_GRP"),
            "AG_CODE": code,
            "AG_DESC": desc,
            "INP_DATE": stamp,
            "CNG_DATE": stamp,
        }


def _ean13(rng: random.Random) -> str:
    digits = [8, 7] + [rng.randint(0, 9) for _ in range(10)]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return "".join(map(str, digits)) + str(check)


def seed_company(
    company: Company, *, seed: int, debtors: int, articles: int, sales_orders: int, invoices: int
) -> None:
    from faker import Faker

    fake = Faker("nl_NL")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    stamp = dt.datetime(2026, 1, 5, 8, 30, 0)
    for index in range(debtors):
        company_name = rng.random() < 0.3
        first, last = fake.first_name(), fake.last_name()
        name = fake.company() if company_name else f"{first} {last}"
        local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
        local = local.encode("ascii", "ignore").decode() or "klant"
        number = company.next_number("debtor")
        company.debtors[number] = {
            **_blank("CONTACT"),
            "SUB_NR": number,
            "ACCT_NAME": name[:40],
            "SRC_CODE": "".join(ch for ch in name.upper() if ch.isalnum())[:10],
            "ACCT_NR": "1300",
            "ADDRESS1": f"{fake.street_name()} {fake.building_number()}",
            "POST_CODE": fake.postcode().upper(),
            "CITY": fake.city()[:35],
            "CNT_CODE": "NL",
            "COUNTRY": "Nederland",
            "MAIL_BUS": f"{local}{rng.randint(1, 99)}@{fake.free_email_domain()}",
            "TEL_BUS": fake.phone_number()[:20],
            "MAIN_CONT": f"{first} {last}" if company_name else None,
            "CUR_CODE": "EUR",
            "VAT_CODE": "1",
            "REC_BLK": False,
            "INP_DATE": stamp,
            "CNG_DATE": stamp + dt.timedelta(hours=index),
            "CNG_NR": 1,
        }
    for index in range(articles):
        desc, price, vat, group = _ARTICLES[index % len(_ARTICLES)]
        suffix = "" if index < len(_ARTICLES) else f" {index // len(_ARTICLES) + 1}"
        code = f"SKU-{1001 + index}"
        service = group == "DIENST"
        company.articles[code] = {
            **_blank("ARTICLE"),
            "ART_CODE": code,
            "ART_DESC1": f"{desc}{suffix}"[:40],
            "AG_CODE": group,
            "ART_UNIT": "st",
            "PX_SELL": Decimal(price),
            "COST_PX": (Decimal(price) * Decimal("0.55")).quantize(Decimal("0.01")),
            "VAT_CODE": vat,
            "EAN_CODE": None if service else _ean13(rng),
            "QTY_TECH": Decimal(0 if service else rng.randint(0, 60)),
            "QTY_BESTEL": Decimal(0 if service else rng.choice((0, 0, 10, 25))),
            "REC_BLK": False,
            "INP_DATE": stamp,
            "CNG_DATE": stamp + dt.timedelta(minutes=index),
        }
    company.refresh_stock()
    stock_codes = [c for c, a in company.articles.items() if a["AG_CODE"] != "DIENST"]
    debtor_numbers = list(company.debtors)

    def allow(_: str) -> None:
        return None

    book_date = dt.date(2026, 2, 1)
    for index in range(sales_orders if stock_codes and debtor_numbers else 0):
        lines = [
            {"ART_CODE": code, "ORD_QTY": Decimal(rng.randint(1, 3))}
            for code in rng.sample(stock_codes, k=min(len(stock_codes), rng.randint(1, 3)))
        ]
        head = {
            "ORD_DATE": dt.datetime(2026, 2, 1 + index % 27, 10, 0),
            "RPL_INV": debtor_numbers[index % len(debtor_numbers)],
            "COMMENT1": f"Order WEB-{7001 + index}",
        }
        key, record = company._order(
            BUSINESS_OBJECTS["SO1"], Posted(str(index + 1), head, lines), book_date, allow, []
        )
        record.update(INP_DATE=stamp, CNG_DATE=stamp)
        company.orders[key] = record
    for index in range(invoices if debtor_numbers else 0):
        net = Decimal(rng.randint(1000, 9000)) / 100
        vat = (net * Decimal("0.21")).quantize(Decimal("0.01"))
        head = {
            "DJ_CODE": "VRK",
            "HDR_DESC": f"Factuur 2026-{index + 1:04d}",
            "SUB_NR": debtor_numbers[index % len(debtor_numbers)],
            "INV_NR": f"2026{index + 1:04d}",
            "TRN_DATE": dt.date(2026, 1, 10 + index),
        }
        lines = [{"ACCT_NR": "8000", "AMOUNT": net, "VAT_AMT": vat, "VAT_CODE": "1", "TRN_DESC": "Omzet"}]
        key, record = company._page(
            BUSINESS_OBJECTS["DJ2"], Posted(str(index + 1), head, lines), book_date, allow, []
        )
        record.update(INP_DATE=stamp, CNG_DATE=stamp)
        company.pages[key] = record
    company.refresh_stock()
