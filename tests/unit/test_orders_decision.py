"""The decision table's evaluation (portal/orders/decision.py): first match wins, the
default row, no match, attribute tests, territory, postal prefix with spaces and case;
the summary template and its check; attribute lines. Properties against an obviously
right reference: the lowest-position matching row wins, and a table ending in a default
row always matches."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.orders.decision import (
    LocationFacts,
    ProductFacts,
    RowFacts,
    attributes_text,
    first_match,
    matches,
    parse_attributes,
    summary_text,
    template_problem,
)

FIBRE = ProductFacts(
    1, "FIBRE-INSTALL", "Fibre install", {"category": "broadband", "needs_site_visit": True}
)
ROUTER = ProductFacts(2, "ROUTER", "Router", {"category": "equipment", "needs_site_visit": False})
LONDON = LocationFacts(territory_id=10, postal_code="sw1a 1aa", label="Head office")
NEW_YORK = LocationFacts(territory_id=20, postal_code="10118", label="Midtown")


def test_the_first_matching_row_wins():
    rows = [
        RowFacts(1, 1, product_id=2),
        RowFacts(2, 2, product_id=1),
        RowFacts(3, 3, product_id=1),
    ]
    assert first_match(rows, FIBRE, LONDON).id == 2


def test_rows_are_tried_by_position_not_by_list_order():
    rows = [RowFacts(1, 5, product_id=1), RowFacts(2, 2, product_id=1)]
    assert first_match(rows, FIBRE, LONDON).id == 2


def test_the_default_row_takes_what_no_row_above_matched():
    rows = [RowFacts(1, 1, product_id=1), RowFacts(2, 2, is_default=True)]
    assert first_match(rows, ROUTER, LONDON).id == 2
    assert first_match(rows, FIBRE, LONDON).id == 1


def test_no_matching_row_gives_none():
    rows = [RowFacts(1, 1, product_id=1)]
    assert first_match(rows, ROUTER, LONDON) is None
    assert first_match([], ROUTER, LONDON) is None


def test_an_attribute_test_must_hold():
    row = RowFacts(1, 1, attributes={"category": "broadband"})
    assert matches(row, FIBRE, LONDON)
    assert not matches(row, ROUTER, LONDON)


def test_an_attribute_test_ignores_case_and_spaces_of_text():
    assert matches(RowFacts(1, 1, attributes={"category": " Broadband"}), FIBRE, LONDON)


def test_a_boolean_attribute_test_is_not_text():
    assert matches(RowFacts(1, 1, attributes={"needs_site_visit": True}), FIBRE, LONDON)
    assert not matches(RowFacts(1, 1, attributes={"needs_site_visit": "true"}), FIBRE, LONDON)
    assert not matches(RowFacts(1, 1, attributes={"needs_site_visit": True}), ROUTER, LONDON)


def test_a_missing_attribute_does_not_match():
    assert not matches(RowFacts(1, 1, attributes={"speed": "1000"}), FIBRE, LONDON)


def test_a_territory_condition_must_hold():
    row = RowFacts(1, 1, territory_id=10)
    assert matches(row, FIBRE, LONDON)
    assert not matches(row, FIBRE, NEW_YORK)


@pytest.mark.parametrize("prefix", ["SW1A", "sw1a", "SW1A 1", " sw 1a1aa ", "S"])
def test_a_postal_prefix_matches_without_regard_to_spaces_and_case(prefix):
    assert matches(RowFacts(1, 1, postal_prefix=prefix), FIBRE, LONDON)


@pytest.mark.parametrize("prefix", ["SE1", "SW1B", "SW1A1AAX"])
def test_a_postal_prefix_that_is_not_the_start_does_not_match(prefix):
    assert not matches(RowFacts(1, 1, postal_prefix=prefix), FIBRE, LONDON)


def test_every_condition_must_hold_together():
    row = RowFacts(1, 1, product_id=1, territory_id=10, postal_prefix="SW")
    assert matches(row, FIBRE, LONDON)
    assert not matches(row, FIBRE, NEW_YORK)
    assert not matches(row, ROUTER, LONDON)


def test_the_summary_fills_its_placeholders():
    text = summary_text("{product} ({code}) at {location}", FIBRE, LONDON)
    assert text == "Fibre install (FIBRE-INSTALL) at Head office"


def test_a_summary_with_a_broken_template_is_written_as_it_is():
    assert summary_text("Install {product", FIBRE, LONDON) == "Install {product"


def test_an_empty_summary_names_the_product_and_the_location():
    assert summary_text("", FIBRE, LONDON) == "Fibre install at Head office"


@pytest.mark.parametrize("template", ["{product} at {location}", "{code}", "No placeholder", ""])
def test_known_placeholders_are_accepted(template):
    assert template_problem(template) is None


@pytest.mark.parametrize(
    ("template", "named"),
    [
        ("{customer} visit", "{customer}"),
        ("{product.name}", "{product.name}"),
        ("{code:>9}", "{code:>9}"),
    ],
)
def test_an_unknown_placeholder_is_named(template, named):
    assert named in template_problem(template)


def test_an_unclosed_brace_is_explained():
    assert "brace" in template_problem("Install {product")


def test_attribute_lines_become_a_dict_with_booleans():
    text = "category = broadband\n\nManaged=TRUE\nspeed=1000 Mbit/s\nlegacy=false"
    assert parse_attributes(text) == {
        "category": "broadband",
        "managed": True,
        "speed": "1000 Mbit/s",
        "legacy": False,
    }


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("category", "key=value"),
        ("=broadband", "key=value"),
        ("1st=x", "not a key"),
        ("category=a\ncategory=b", "twice"),
        ("category=", "a value"),
    ],
)
def test_a_bad_attribute_line_is_named(text, words):
    with pytest.raises(ValueError, match=words):
        parse_attributes(text)


def test_a_reserved_attribute_is_refused():
    with pytest.raises(ValueError, match="its own box"):
        parse_attributes("needs_site_visit=true", reserved=("needs_site_visit",))


def test_attributes_read_back_to_the_same_dict():
    attributes = {"category": "broadband", "managed": True, "legacy": False}
    assert parse_attributes(attributes_text(attributes)) == attributes


# --- properties against a reference ------------------------------------------------------------

PRODUCT_IDS = st.integers(1, 4)
TERRITORIES = st.sampled_from([None, 10, 20])
ATTRIBUTES = st.dictionaries(
    st.sampled_from(["category", "managed"]),
    st.sampled_from(["broadband", "equipment", True, False]),
    max_size=2,
)


@st.composite
def tables(draw, *, ends_with_default: bool = False):
    count = draw(st.integers(0, 8))
    positions = draw(st.lists(st.integers(1, 100), min_size=count, max_size=count, unique=True))
    rows = [
        RowFacts(
            id=n,
            position=position,
            is_default=draw(st.booleans()) and draw(st.booleans()),
            product_id=draw(st.none() | PRODUCT_IDS),
            attributes=draw(ATTRIBUTES),
            territory_id=draw(TERRITORIES),
            postal_prefix=draw(st.sampled_from([None, "", "SW", "sw1", "10", "N1"])),
        )
        for n, position in enumerate(positions, start=1)
    ]
    if ends_with_default:
        last = max(positions, default=0) + 1
        rows.append(RowFacts(id=len(rows) + 1, position=last, is_default=True))
    return draw(st.permutations(rows))


products = st.builds(
    ProductFacts, id=PRODUCT_IDS, code=st.just("P"), name=st.just("P"), attributes=ATTRIBUTES
)
locations = st.builds(
    LocationFacts,
    territory_id=TERRITORIES,
    postal_code=st.sampled_from(["SW1A 1AA", "sw19 2ab", "10118", "N1 0NU", ""]),
    label=st.just("Site"),
)


def reference(rows, product, location):
    """Obviously right: check each condition by hand, keep the lowest position."""

    def holds(row):
        if row.is_default:
            return True
        code = location.postal_code.replace(" ", "").upper()
        prefix = (row.postal_prefix or "").replace(" ", "").upper()
        return (
            (row.product_id is None or row.product_id == product.id)
            and all(
                product.attributes.get(k) == v and type(product.attributes.get(k)) is type(v)
                for k, v in row.attributes.items()
            )
            and (row.territory_id is None or row.territory_id == location.territory_id)
            and code.startswith(prefix)
        )

    matching = [row for row in rows if holds(row)]
    return min(matching, key=lambda r: r.position) if matching else None


@settings(max_examples=300, deadline=None)
@given(tables(), products, locations)
def test_first_match_is_the_lowest_position_matching_row(rows, product, location):
    assert first_match(rows, product, location) == reference(rows, product, location)


@settings(max_examples=200, deadline=None)
@given(tables(ends_with_default=True), products, locations)
def test_a_table_ending_in_a_default_row_always_matches(rows, product, location):
    assert first_match(rows, product, location) is not None
