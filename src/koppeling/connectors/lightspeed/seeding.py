"""Deterministic seed data for the Lightspeed simulator: Faker people (nl_NL, nl_BE, de_DE, fixed
seeds), a small Dutch catalogue, and orders in every combination of ``status`` / ``paymentStatus`` /
``shipmentStatus`` the seed cares about (paid and awaiting shipment, pay-by-invoice shipped before
payment, cancelled, pick-up, intra-EU B2B with VAT shifted, coupons, free shipping over EUR 75).
The combinations and catalogue are invented for the simulator; the field shapes are the samples'.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .records import COUNTRIES, LANGUAGES, PAYMENT_METHODS, ZERO, OrderState, Store, iso, q2, recompute_totals

__all__ = ["customer_fields", "seed_orders"]

_METHOD_WEIGHTS = {
    "NL": (("ideal", 55), ("paypal", 15), ("creditcard", 8), ("banktransfer", 10), ("invoice", 12)),
    "BE": (("mistercash", 50), ("ideal", 10), ("paypal", 20), ("creditcard", 10), ("invoice", 10)),
    "DE": (("paypal", 45), ("creditcard", 25), ("banktransfer", 20), ("invoice", 10)),
}
# (title, brand, supplier, price incl. VAT in NL, VAT rate)
_CATALOG: tuple[tuple[str, str, str, str, str], ...] = (
    ("Katoenen T-shirt", "Basics", "Textiel BV", "19.95", "0.21"),
    ("Wollen sjaal", "Noorderwol", "Textiel BV", "34.50", "0.21"),
    ("Keramieken mok", "Klei & Co", "Huis & Haard", "12.95", "0.21"),
    ("Notitieboek A5", "Papier", "Kantoorhuis", "8.49", "0.21"),
    ("Vulpen staal", "Schrijf", "Kantoorhuis", "27.00", "0.21"),
    ("Canvas tas", "Basics", "Textiel BV", "14.99", "0.21"),
    ("Geurkaars vijg", "Lumen", "Huis & Haard", "22.50", "0.21"),
    ("Houten snijplank", "Eik", "Huis & Haard", "39.00", "0.21"),
    ("Koptelefoon", "Klank", "Elektro NL", "79.95", "0.21"),
    ("USB-C kabel 2m", "Klank", "Elektro NL", "9.99", "0.21"),
    ("Biologische koffie 500g", "Bonen", "Delicatessen", "8.95", "0.09"),
    ("Losse thee rooibos", "Blad", "Delicatessen", "6.50", "0.09"),
    ("Chocoladereep puur", "Cacao", "Delicatessen", "3.49", "0.09"),
    ("Kookboek Nederlands", "Uitgeverij Pan", "Boekhuis", "29.99", "0.09"),
    ("Stroopwafels 8st", "Gouda's Best", "Delicatessen", "4.25", "0.09"),
)
#: (status, paymentStatus, shipmentStatus, weight). Combinations [I]; the enums are [V].
_STATE_WEIGHTS: tuple[tuple[str, str, str, int], ...] = (
    ("processing_awaiting_payment", "not_paid", "not_shipped", 12),
    ("processing_awaiting_shipment", "paid", "not_shipped", 30),
    ("processing_awaiting_shipment", "not_paid", "not_shipped", 4),  # pay-by-invoice, shipped first
    ("completed_shipped", "paid", "shipped", 30),
    ("completed", "paid", "shipped", 4),
    ("on_hold", "not_paid", "not_shipped", 3),
    ("cancelled", "cancelled", "cancelled", 6),
)


@dataclass(frozen=True, slots=True)
class _Person:
    first: str
    middle: str
    last: str
    gender: str
    company: str
    coc: str
    vat: str
    street: str
    number: str
    zipcode: str
    city: str
    phone: str
    email: str


def _vat_number(country: str, rng: random.Random) -> str:
    if country == "NL":
        while True:
            digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(7)]
            check = sum(d * (9 - i) for i, d in enumerate(digits)) % 11
            if check < 10:
                return "NL" + "".join(map(str, digits)) + str(check) + "B01"
    if country == "BE":
        base = rng.randint(2_000_000, 19_999_999)
        return f"BE{base:08d}{97 - base % 97:02d}"
    from stdnum.iso7064 import mod_11_10

    body = str(rng.randint(10_000_000, 99_999_999))
    return "DE" + body + mod_11_10.calc_check_digit(body)


@functools.lru_cache(maxsize=16)
def _people(country: str, seed: int, size: int) -> tuple[_Person, ...]:
    from faker import Faker

    fake = Faker({"NL": "nl_NL", "BE": "nl_BE", "DE": "de_DE"}[country])
    fake.seed_instance(seed)
    rng = random.Random(f"lightspeed-{seed}-{country}")
    out = []
    for _ in range(size):
        female = rng.random() < 0.5
        first = fake.first_name_female() if female else fake.first_name_male()
        middle = rng.choice(("", "", "", "van", "de", "van der")) if country != "DE" else ""
        last = fake.last_name()
        company = fake.company() if rng.random() < 0.2 else ""
        local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
        local = local.encode("ascii", "ignore").decode() or "klant"
        domain = fake.domain_name() if company else fake.free_email_domain()
        out.append(
            _Person(
                first=first,
                middle=middle,
                last=last,
                gender="female" if female else "male",
                company=company,
                coc=str(rng.randint(10_000_000, 99_999_999)) if company else "",
                vat=_vat_number(country, rng) if company else "",
                street=fake.street_name(),
                number=str(fake.building_number()),
                zipcode=fake.postcode(),
                city=fake.city(),
                phone=fake.phone_number(),
                email=f"{local}{rng.randint(1, 999)}@{domain}",
            )
        )
    return tuple(out)


def _cumulative(weights: Iterable[int]) -> list[int]:
    total, out = 0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


_STATE_CUM = _cumulative(w for *_, w in _STATE_WEIGHTS)
_METHOD_CUM = {
    c: ([m for m, _ in pairs], _cumulative(w for _, w in pairs)) for c, pairs in _METHOD_WEIGHTS.items()
}


def _address(prefix: str, person: _Person, country: str, name: str) -> dict[str, Any]:
    return {
        f"{prefix}Name": name,
        f"{prefix}Street": person.street,
        f"{prefix}Street2": "",
        f"{prefix}Number": person.number,
        f"{prefix}Extension": "",
        f"{prefix}Zipcode": person.zipcode,
        f"{prefix}City": person.city,
        f"{prefix}Region": "",
        f"{prefix}Country": dict(COUNTRIES[country]),
    }


def customer_fields(
    cid: int, person: _Person, country: str, created: dt.datetime, kind: str
) -> dict[str, Any]:
    """A customer's flat fields, in the order of the sample ``customer.json``."""
    name = " ".join(p for p in (person.first, person.middle, person.last) if p)
    billing = _address("addressBilling", person, country, name)
    shipping = _address("addressShipping", person, country, name)
    return {
        "id": cid,
        "createdAt": iso(created),
        "updatedAt": iso(created),
        "isConfirmed": kind == "registered",
        "type": kind,
        "lastOnlineAt": None,
        "remoteIp": False,
        "userAgent": False,
        "referralId": False,
        "gender": person.gender,
        "birthDate": False,
        "nationalId": "",
        "email": person.email,
        "firstname": person.first,
        "middlename": person.middle,
        "lastname": person.last,
        "phone": person.phone,
        "mobile": "",
        "isCompany": bool(person.company),
        "companyName": person.company,
        "companyCoCNumber": person.coc,
        "companyVatNumber": person.vat,
        **billing,
        "addressShippingCompany": person.company or False,
        **shipping,
        "memo": "",
        "doNotifyRegistered": False,
        "doNotifyConfirmed": False,
        "doNotifyPassword": False,
    }


def seed_orders(
    store: Store,
    count: int,
    *,
    seed: int,
    start: dt.datetime,
    step: dt.timedelta,
    now: dt.datetime,
    language: str,
) -> list[int]:
    """Generate ``count`` orders (with customers, invoices, shipments, events). Deterministic."""
    rng = random.Random(seed)
    pool_size = max(8, min(200, count // 3 + 8))
    people = {c: _people(c, seed, pool_size) for c in COUNTRIES}
    known: dict[tuple[str, int], int] = {}
    created_ids = []
    for i in range(count):
        moment = start + step * i + dt.timedelta(seconds=rng.randint(0, 59))
        country = rng.choices(("NL", "BE", "DE"), cum_weights=(70, 88, 100))[0]
        index = rng.randrange(pool_size)
        person = people[country][index]
        cid = known.get((country, index))
        if cid is None:
            cid = store.take("customer")
            kind = "registered" if rng.random() < 0.7 else "guest"
            store.customers[cid] = customer_fields(cid, person, country, moment, kind)
            known[(country, index)] = cid
        created_ids.append(_one_order(store, rng, person, cid, country, moment, now, language))
    return created_ids


def _one_order(
    store: Store,
    rng: random.Random,
    person: _Person,
    cid: int,
    country: str,
    moment: dt.datetime,
    now: dt.datetime,
    language: str,
) -> int:
    status, pay_status, ship_status, _ = _STATE_WEIGHTS[
        rng.choices(range(len(_STATE_WEIGHTS)), cum_weights=_STATE_CUM)[0]
    ]
    methods, cum = _METHOD_CUM[country]
    key = rng.choices(methods, cum_weights=cum)[0]
    method = next(m for m in PAYMENT_METHODS if m["key"] == key)
    if pay_status == "not_paid" and status == "processing_awaiting_shipment":
        method = next(m for m in PAYMENT_METHODS if m["key"] == "invoice")
    shifted = bool(person.vat) and country != "NL"  # intra-EU B2B: VAT shifted, 0% [I]
    pickup = country == "NL" and rng.random() < 0.05 and status != "cancelled"
    if pickup and status.startswith("completed"):
        status = "completed_picked_up"
    elif pickup and status == "processing_awaiting_shipment":
        status = "processing_awaiting_pickup"

    oid = store.take("order")
    number = store.take("order_number")
    lines = []
    coupon = rng.random() < 0.12
    for index in rng.sample(
        range(len(_CATALOG)), k=rng.choices((1, 2, 3, 4), cum_weights=(40, 70, 90, 100))[0]
    ):
        title, brand, supplier, price, rate_text = _CATALOG[index]
        qty = rng.choices((1, 2, 3, 6), cum_weights=(70, 88, 96, 100))[0]
        rate = ZERO if shifted else Decimal(rate_text)
        unit_incl = (
            q2(Decimal(price) / Decimal("1.21")) if shifted and rate_text == "0.21" else Decimal(price)
        )
        if shifted and rate_text == "0.09":
            unit_incl = q2(Decimal(price) / Decimal("1.09"))
        discount = q2(unit_incl * qty * Decimal("0.10")) if coupon else ZERO
        code = f"LS-{20_967_000 + index}"
        lines.append(
            {
                "id": store.take("product"),
                "supplierTitle": supplier,
                "brandTitle": brand,
                "productTitle": title,
                "variantTitle": "Standaard",
                "taxRate": rate,
                "taxRates": [],
                "quantityOrdered": qty,
                "quantityInvoiced": 0,
                "quantityShipped": qty if ship_status == "shipped" else 0,
                "quantityRefunded": 0,
                "quantityReturned": 0,
                "articleCode": code,
                "ean": f"87{rng.randint(10**10, 10**11 - 1)}",
                "sku": code,
                "weight": 350,
                "volume": 0,
                "colli": 0,
                "sizeX": 0,
                "sizeY": 0,
                "sizeZ": 0,
                "priceCost": ZERO,
                "customExcl": ZERO,
                "customIncl": ZERO,
                "basePriceExcl": ZERO,
                "basePriceIncl": unit_incl,
                "priceExcl": ZERO,
                "priceIncl": ZERO,
                "discountExcl": ZERO,
                "discountIncl": discount,
                "customFields": False,
                "_product": 20_967_000 + index,
                "_variant": 34_771_000 + index,
            }
        )
    goods = sum((Decimal(p["basePriceIncl"]) * p["quantityOrdered"] for p in lines), ZERO)
    ship_incl = ZERO if pickup or goods >= 75 else (Decimal("4.95") if country == "NL" else Decimal("9.95"))
    if shifted:
        ship_incl = q2(ship_incl / Decimal("1.21"))
    fee = method["fee"] or ZERO
    if shifted:
        fee = q2(fee / Decimal("1.21"))
    name = " ".join(p for p in (person.first, person.middle, person.last) if p)
    changed = min(now, moment + dt.timedelta(minutes=rng.randint(1, 72 * 60)))
    if changed < moment:
        changed = moment
    fields: dict[str, Any] = {
        "id": oid,
        "createdAt": iso(moment),
        "updatedAt": iso(changed),
        "number": f"ORD{number:05d}",
        "status": status,
        "customStatusId": None,
        "channel": "main",
        "remoteIp": f"84.{rng.randint(1, 254)}.{rng.randint(1, 254)}.{rng.randint(1, 254)}",
        "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)",
        "referralId": False,
        "priceCost": ZERO,
        "priceExcl": ZERO,
        "priceIncl": ZERO,
        "weight": 0,
        "volume": 0,
        "colli": 0,
        "gender": person.gender,
        "birthDate": False,
        "nationalId": "",
        "email": person.email.upper() if rng.random() < 0.05 else person.email,
        "firstname": person.first,
        "middlename": person.middle,
        "lastname": person.last,
        "phone": person.phone,
        "mobile": "",
        "newsletterSubscribed": rng.random() < 0.3,
        "isCompany": bool(person.company),
        "companyName": person.company,
        "companyCoCNumber": person.coc,
        "companyVatNumber": person.vat,
        **_address("addressBilling", person, country, name),
        "addressBillingRegionData": False,
        "addressShippingCompany": person.company or False,
        **_address("addressShipping", person, country, name),
        "addressShippingRegionData": False,
        "paymentId": method["key"],
        "paymentStatus": pay_status,
        "paymentIsPost": method["key"] in ("invoice", "banktransfer"),
        "paymentIsInvoiceExternal": False,
        "paymentTaxRate": ZERO if shifted else Decimal("0.21"),
        "paymentTaxRates": [],
        "paymentBasePriceExcl": ZERO,
        "paymentBasePriceIncl": fee,
        "paymentPriceExcl": ZERO,
        "paymentPriceIncl": ZERO,
        "paymentTitle": method["title"],
        "paymentData": {"method": method["key"]},
        "shipmentId": "core|40001|50001" if not pickup else "core|40002|50002",
        "shipmentStatus": ship_status,
        "shipmentIsCashOnDelivery": False,
        "shipmentIsPickup": pickup,
        "shipmentTaxRate": ZERO if shifted else Decimal("0.21"),
        "shipmentTaxRates": [],
        "shipmentBasePriceExcl": ZERO,
        "shipmentBasePriceIncl": ship_incl,
        "shipmentPriceExcl": ZERO,
        "shipmentPriceIncl": ZERO,
        "shipmentDiscountExcl": ZERO,
        "shipmentDiscountIncl": ZERO,
        "shipmentTitle": "Afhalen in de winkel" if pickup else ("PostNL" if country == "NL" else "DHL"),
        "shipmentData": {
            "method": "default",
            "shipment_id": 40002 if pickup else 40001,
            "shipping_value_id": 50002 if pickup else 50001,
        },
        "shippingDate": None,
        "deliveryDate": None,
        "isDiscounted": coupon,
        "discountType": "percentage" if coupon else "amount",
        "discountAmount": ZERO,
        "discountPercentage": 10 if coupon else 0,
        "discountCouponCode": "WELKOM10" if coupon else "",
        "taxRates": [],
        "isNewCustomer": rng.random() < 0.4,
        "comment": "",
        "memo": "",
        "allowNotifications": True,
        "doNotifyNew": False,
        "doNotifyReminder": False,
        "doNotifyCancelled": False,
        "language": dict(LANGUAGES[language]),
        "_vat_shifted": shifted,
    }
    state = OrderState(oid, fields, lines, cid, store.take("quote"))
    recompute_totals(state)
    fields["discountAmount"] = sum((Decimal(p["discountIncl"]) for p in lines), ZERO)
    store.orders[oid] = state
    store.add_event(state, "order", "new", moment, "auto")
    if pay_status == "paid":
        store.add_invoice(state, changed)
        store.add_event(state, "order", "paid", changed, "auto")
    if status != "cancelled" and not pickup:
        store.add_shipment(state, moment)
    return oid
