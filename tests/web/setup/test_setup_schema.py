"""Settings forms made from the pydantic models: widgets by type, posted values parsed back, every
problem next to its field or row, a value outside a complete picklist refused (no database)."""

from __future__ import annotations

from django.http import QueryDict

from koppeling.connectors.acumulus.client import AcumulusSettings
from koppeling.sync.flow_settings import OrderFlowSettings
from koppeling.web.setup.schema import Picklists, SchemaForm


def post(**values) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in values.items():
        key = key.replace("__", "-")
        for item in value if isinstance(value, list) else [value]:
            data.appendlist(key, item)
    return data


def as_shown(form: SchemaForm, **values) -> QueryDict:
    """What the browser posts for ``form`` as it is shown (every field), with ``values`` typed in."""
    shown: dict = {}
    for f in form.fields:
        if f.kind == "checkbox":
            if f.value:
                shown[f.input] = "on"
        elif f.kind == "checks":
            shown[f.input] = sorted(f.selected)
        elif f.kind in ("mapping", "model_mapping"):
            shown[f"{f.input}-rows"] = str(f.row_count)
        elif f.kind != "group":
            shown[f.input] = f.shown
    data = post(**values)
    for key, value in shown.items():
        if key not in data:
            data.setlist(key, value if isinstance(value, list) else [value])
    return data


def field(form: SchemaForm, name: str):
    return next(f for f in form.fields if f.name == name)


def test_widgets_follow_the_types():
    lists = Picklists(values={"statuses": [("3", "Betaald"), ("7", "Betaald en verzonden")]})
    form = SchemaForm(OrderFlowSettings, {"statuses": ["3"]}, prefix="f", picklists=lists)
    assert field(form, "statuses").kind == "checks" and field(form, "statuses").selected == {"3"}
    assert field(form, "countries").kind == "list"
    assert field(form, "payment_status").kind == "select"
    assert {v for v, _label in field(form, "payment_status").choices} == {"paid", "due", "from_order"}
    assert field(form, "oss_registered").kind == "checkbox" and field(form, "oss_registered").value is True
    assert field(form, "max_attempts").kind == "number" and field(form, "max_attempts").minimum == 1
    assert field(form, "category_by_rate").kind == "mapping"
    assert "version" not in form.names


def test_posted_values_become_the_document_and_only_changes_are_kept():
    form = SchemaForm(OrderFlowSettings, {}, prefix="f")
    form.bind(
        as_shown(
            form,
            f__statuses="3, 7",
            f__countries="nl; be",
            f__oss_registered="on",
            f__max_attempts="5",
            f__description_template="Bestelling {number}",
            f__payment_status="paid",
            f__category_by_rate__rows="3",
            f__category_by_rate__0__key="9",
            f__category_by_rate__0__value="books",
        )
    )
    assert form.validate() is not None, form.errors
    cleaned = form.cleaned()
    assert cleaned["statuses"] == ["3", "7"] and cleaned["countries"] == ["NL", "BE"]
    assert cleaned["max_attempts"] == 5 and cleaned["category_by_rate"] == {"9": "books"}
    assert "description_template" not in cleaned  # the default is not stored


def test_every_problem_is_located_at_once():
    form = SchemaForm(OrderFlowSettings, {}, prefix="f")
    form.bind(
        as_shown(
            form,
            f__countries="Nederland",
            f__max_attempts="veel",
            f__description_template="Bestelling",
            f__category_by_rate__rows="2",
            f__category_by_rate__0__key="9",
            f__category_by_rate__0__value="books",
            f__category_by_rate__1__key="9",
            f__category_by_rate__1__value="food",
        )
    )
    assert form.validate() is None
    assert set(form.errors) >= {"countries", "max_attempts", "description_template", "category_by_rate"}
    assert field(form, "max_attempts").error and field(form, "description_template").error
    twice = field(form, "category_by_rate").rows[1]
    assert twice.key == "9" and twice.error  # the duplicate row carries its own message


def test_a_value_outside_a_complete_picklist_is_refused_on_its_row():
    lists = Picklists(values={"accounts": [("1", "Bank"), ("2", "PayPal")]}, strict=frozenset({"accounts"}))
    form = SchemaForm(AcumulusSettings, {}, prefix="t", picklists=lists)
    form.bind(
        post(
            t__accounts__rows="2",
            t__accounts__0__key="*",
            t__accounts__0__value="1",
            t__accounts__1__key="paypal",
            t__accounts__1__value="99",
        )
    )
    assert form.validate() is None
    rows = field(form, "accounts").rows
    assert not rows[0].error and "99" in rows[1].error
    form = SchemaForm(AcumulusSettings, {}, prefix="t", picklists=lists)
    form.bind(post(t__accounts__rows="1", t__accounts__0__key="*", t__accounts__0__value="2"))
    assert form.validate() is not None and form.cleaned() == {"accounts": {"*": "2"}}


def test_fields_not_shown_keep_their_stored_value():
    stored = {"from_date": "2026-01-01", "statuses": ["3"]}
    form = SchemaForm(OrderFlowSettings, stored, prefix="f", exclude=("version", "from_date", "from_number"))
    assert "from_date" not in form.names
    form.bind(as_shown(form, f__statuses="3"))
    assert form.validate() is not None
    assert form.cleaned()["from_date"] == "2026-01-01"
