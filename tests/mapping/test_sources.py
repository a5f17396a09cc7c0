"""A connector's mapping at run time: default, stored, refused, and the API's extra fields."""

from __future__ import annotations

import pytest

from koppeling.mapping import TARGETS, MappingSpec, Schema, default_mapping
from koppeling.mapping.codes import MappingCode, MappingRefused
from koppeling.mapping.defaults import rule
from koppeling.mapping.sources import MappedSource


class Source(MappedSource):
    mapping_kinds = ("products",)

    def __init__(self, own_fields=()):
        self.own_fields = set(own_fields)
        self.asked: list[set[str]] = []

    def mapping_schema(self, kind):
        return Schema(kind, {"ART_CODE": "text", "ART_DESC1": "text"}, TARGETS[kind])

    def default_mapping(self, kind):
        return default_mapping("products", "accountview")

    def extra_source_fields(self, kind, fields):
        self.asked.append(set(fields))
        return fields & self.own_fields


def stored(*rules, version=2):
    return {"version": version, "kind": "products", "rules": list(rules)}


def test_without_a_stored_mapping_the_default_applies():
    source = Source()
    assert source.use_mapping("products", None).version == 0
    assert source.mapping_for("products") == source.default_mapping("products")
    assert source.use_mapping("stock", {"rules": []}) is None  # read without a mapping


def test_a_stored_mapping_is_used_with_its_version():
    source = Source()
    spec = source.use_mapping("products", stored(rule("sku", "ART_CODE"), rule("name", "ART_DESC1")))
    assert isinstance(spec, MappingSpec) and spec.version == 2
    assert source.mapping_for("products") is spec


def test_an_own_field_of_the_administration_is_confirmed_by_the_source():
    source = Source(own_fields={"USR_COLOR"})
    data = stored(rule("sku", "ART_CODE"), rule("name", "ART_DESC1", "USR_COLOR", steps=("concat",)))
    assert source.use_mapping("products", data).version == 2
    assert source.asked == [{"USR_COLOR"}]


def test_a_field_the_source_does_not_have_refuses_the_mapping():
    source = Source()
    data = stored(rule("sku", "ART_CODE"), rule("name", "ART_NAAM"))
    with pytest.raises(MappingRefused) as exc:
        source.use_mapping("products", data)
    assert [(p.code, p.params["location"]) for p in exc.value.problems] == [
        (MappingCode.UNKNOWN_SOURCE, "rules[1].sources[0]")
    ]


def test_other_problems_are_refused_without_asking_the_source():
    source = Source(own_fields={"USR_COLOR"})
    data = stored(rule("sku", "ART_CODE"), rule("name", "USR_COLOR", steps=("shout",)))
    with pytest.raises(MappingRefused):
        source.use_mapping("products", data)
    assert source.asked == []
