"""One Registry serves variants, architectures and data sources: a second registration of a name is refused and an
unknown name is answered with the choices."""

from __future__ import annotations

import pytest

from ae.data.sources import SOURCES, source
from ae.errors import InputError
from ae.models.blocks import ARCHS, architecture
from ae.registry import VARIANTS, register, variants


@pytest.mark.parametrize("registry, add, name", [
    (VARIANTS, register, "vae"),
    (ARCHS, architecture, "conv"),
    (SOURCES, lambda name: source(name, "again"), "mnist-5k"),
], ids=["variant", "architecture", "dataset"])
def test_every_registry_refuses_a_second_registration_and_names_its_choices(registry, add, name):
    variants()
    before = registry[name]
    with pytest.raises(ValueError, match=f"{registry.kind} '{name}' is registered twice"):
        add(name)(type("Again", (), {}))
    assert registry[name] is before  # the first one stays
    if registry is SOURCES:
        from ae.data.sources import DESCRIPTIONS

        assert DESCRIPTIONS[name] != "again"
    with pytest.raises(InputError, match=f"unknown {registry.kind} 'nope'; choose one of .*{name}"):
        registry.lookup("nope")
