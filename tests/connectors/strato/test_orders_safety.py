"""The orders reader against hostile XML: no entity expansion, no file or network access, and
memory that stays bounded whatever element names a file invents. Also: the split of the reader
into modules keeps its public imports."""

from __future__ import annotations

import io

from koppeling.connectors.strato import orders
from koppeling.connectors.strato.orders import OrderReader, StratoOrder

ORDER = (
    "<Order><OrderNumber>{n}</OrderNumber><CreationDate>2024-03-05</CreationDate>"
    "<GrandTotal>1.21</GrandTotal>{extra}<LineItems><LineItem><Name>{name}</Name><Quantity>1</Quantity>"
    "<UnitPrice>1.21</UnitPrice><TaxRate>21</TaxRate></LineItem></LineItems></Order>"
)


def read(text: str) -> tuple[list, OrderReader]:
    reader = OrderReader(io.BytesIO(text.encode()), "B.xml")
    return list(reader), reader


def test_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE Orders [<!ENTITY x SYSTEM "{secret.as_uri()}">'
        f'<!ENTITY % p SYSTEM "{secret.as_uri()}"> %p;]>'
        "<Orders>" + ORDER.format(n=1, name="&x;", extra="") + "</Orders>"
    )
    found, reader = read(doc)
    assert [type(o) for o in found] == [StratoOrder]
    assert "TOP-SECRET" not in found[0].lines[0].description
    assert reader.broken is None


def test_no_network_for_an_external_dtd():
    doc = (
        '<?xml version="1.0"?><!DOCTYPE Orders SYSTEM "http://127.0.0.1:9/orders.dtd">'
        "<Orders>" + ORDER.format(n=1, name="Theepot", extra="") + "</Orders>"
    )
    found, _reader = read(doc)
    assert found[0].lines[0].description == "Theepot"


def test_entity_expansion_bomb_is_refused_not_expanded():
    levels = ['<!ENTITY a "aaaaaaaaaa">'] + [
        f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("abcdefg", "bcdefgh", strict=True)
    ]
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE Orders [{"".join(levels)}]>'
        "<Orders>" + ORDER.format(n=1, name="&h;", extra="") + "</Orders>"
    )
    found, reader = read(doc)
    assert all(len(o.lines[0].description) < 1000 for o in found if isinstance(o, StratoOrder))
    assert found == [] and reader.broken is not None


def test_ever_new_element_names_do_not_grow_memory():
    n = orders.MAX_TAGS + 500
    doc = (
        "<Orders>"
        + "".join(ORDER.format(n=i, name="x", extra=f"<X{i}>1</X{i}>") for i in range(1, n))
        + "</Orders>"
    )
    found, reader = read(doc)
    assert len(found) == n - 1 and all(isinstance(o, StratoOrder) for o in found)
    assert len(reader.unknown_elements) == orders.MAX_UNKNOWN
    assert all(len(m) <= orders.MAX_TAGS for m in reader._maps.values())


def test_public_names_still_import_from_orders():
    from koppeling.connectors.strato.orders import (  # noqa: F401
        ADDRESS_FIELDS,
        FORMAT_VERSION,
        KIND_DISCOUNT,
        KIND_PAYMENT_FEE,
        KIND_PRODUCT,
        KIND_SHIPPING,
        OrderError,
        StratoLine,
        WrongEncoding,
    )

    assert FORMAT_VERSION == "strato-bestellingen/1" and "email" in ADDRESS_FIELDS
