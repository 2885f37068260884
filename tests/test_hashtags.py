"""Hashtag parsing: worked examples, then properties checked by hypothesis on any text."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from feeds.hashtags import MAX_LENGTH, hashtag, merge, normalize_key, parse_hashtags
from feeds.models import Hashtag


def keys(text: str) -> list[str]:
    return [tag.key for tag in parse_hashtags(text)]


def displays(text: str) -> list[str]:
    return [tag.display for tag in parse_hashtags(text)]


# --- examples ---------------------------------------------------------------------------


def test_the_issue_example_in_order_without_duplicates() -> None:
    tags = parse_hashtags("#trending #latest#SouthKorea #서울, #EastAsia.")
    assert tags == (
        Hashtag("trending", "trending"),
        Hashtag("latest", "latest"),
        Hashtag("southkorea", "SouthKorea"),
        Hashtag("서울", "서울"),
        Hashtag("eastasia", "EastAsia"),
    )


def test_case_variants_are_one_tag_and_the_first_spelling_is_kept() -> None:
    assert parse_hashtags("#SOUTHKOREA #southkorea #SouthKorea") == (
        Hashtag("southkorea", "SOUTHKOREA"),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#서울 #東京 #Москва #القاهرة", ["서울", "東京", "москва", "القاهرة"]),
        ("#東京タワー", ["東京タワー"]),
        ("#ΣΟΦΙΑ #σοφια", ["σοφια"]),  # final and medial sigma fold together
        ("#Straße #STRASSE", ["strasse"]),  # ß casefolds to ss
        ("#café #cafe\u0301", ["café"]),  # precomposed and combining accent are one tag
        ("＃fullwidth", ["fullwidth"]),  # a fullwidth number sign starts a tag too
        ("#ｆｕｌｌ", ["full"]),  # NFKC: fullwidth letters are the ASCII tag
    ],
)
def test_unicode_tags_are_first_class(text: str, expected: list[str]) -> None:
    assert keys(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("#", []),
        ("# tag", []),
        ("##double", ["double"]),
        ("#-dash #.dot", []),
        ("a#b", ["b"]),  # run-together text is the newsroom's normal case
        ("#snake_case #_lead", ["snake_case", "_lead"]),
        ("#2026 #covid19", ["2026", "covid19"]),
        ("(#paren) [#bracket] #end!", ["paren", "bracket", "end"]),
    ],
)
def test_boundaries(text: str, expected: list[str]) -> None:
    assert keys(text) == expected


def test_a_combining_mark_cannot_start_a_tag_but_continues_one() -> None:
    assert keys("#\u0301x") == []
    assert displays("#e\u0308x") == ["ëx"]  # NFKC composes e + diaeresis


def test_overlong_tags_are_cut_to_max_length() -> None:
    (tag,) = parse_hashtags("#" + "a" * (MAX_LENGTH + 50) + " #b")[:1]
    assert tag.display == "a" * MAX_LENGTH
    assert keys("#" + "a" * (MAX_LENGTH + 50) + " #b")[1] == "b"


def test_normalize_key_strips_the_marker_and_folds() -> None:
    assert normalize_key("#SouthKorea") == "southkorea"
    assert normalize_key("＃SouthKorea") == "southkorea"  # was "#southkorea" before the fix
    assert normalize_key("東京") == "東京"


def test_hashtag_accepts_exactly_one_tag() -> None:
    assert hashtag(" #SouthKorea ") == Hashtag("southkorea", "SouthKorea")
    assert hashtag("서울") == Hashtag("서울", "서울")
    for bad in ("", "#", "two tags", "a#b", "dash-ed", "a" * (MAX_LENGTH + 1)):
        with pytest.raises(ValueError):
            hashtag(bad)


def test_merge_keeps_the_first_display_of_each_key() -> None:
    first = parse_hashtags("#Japan #China")
    second = parse_hashtags("#JAPAN #Korea")
    assert merge(first, second) == (
        Hashtag("japan", "Japan"),
        Hashtag("china", "China"),
        Hashtag("korea", "Korea"),
    )


# --- properties -------------------------------------------------------------------------

# Any text at all, including unassigned code points and every separator.
any_text = st.text(st.characters(codec=None), max_size=200)
# Text dense in candidate tags: random words after '#', some run together.
tag_word = st.text(st.characters(codec=None), max_size=40)
taggy_text = st.lists(
    st.tuples(st.sampled_from(["#", " #", "##", ", #", "＃", "x#"]), tag_word), max_size=8
).map(lambda parts: "".join(marker + word for marker, word in parts))
texts = st.one_of(any_text, taggy_text)
word = st.text(st.characters(categories=("L", "M", "N")), min_size=1, max_size=30)

PROPERTY = settings(max_examples=300, deadline=None)


@PROPERTY
@given(texts)
@example("#trending #latest#SouthKorea #서울, #EastAsia.")
@example("#" + "ß" * MAX_LENGTH)
@example("＃﹟#x")
def test_parsing_never_crashes_and_keys_are_normalised_and_unique(text: str) -> None:
    tags = parse_hashtags(text)
    found = [tag.key for tag in tags]
    assert len(set(found)) == len(found)
    for tag in tags:
        assert tag.key
        assert normalize_key(tag.key) == tag.key
        assert normalize_key(tag.display) == tag.key
        assert 1 <= len(tag.display) <= MAX_LENGTH
        # The hashtags table stores keys in a String(400) column.
        assert len(tag.key) <= 400


@PROPERTY
@given(texts)
@example("#trending #latest#SouthKorea #서울, #EastAsia.")
def test_parsing_the_display_forms_again_gives_the_same_tags(text: str) -> None:
    tags = parse_hashtags(text)
    assert parse_hashtags(" ".join("#" + tag.display for tag in tags)) == tags
    assert parse_hashtags("".join("#" + tag.display for tag in tags)) == tags
    for tag in tags:
        assert hashtag(tag.display) == tag


@PROPERTY
@given(texts)
def test_every_tag_is_found_in_the_text(text: str) -> None:
    normalised = unicodedata.normalize("NFKC", text)
    for tag in parse_hashtags(text):
        assert "#" + tag.display in normalised


@PROPERTY
@given(texts)
def test_case_folding_the_text_changes_no_key(text: str) -> None:
    assert keys(text.casefold()) == keys(text)


@PROPERTY
@given(st.lists(word, min_size=1, max_size=5))
def test_upper_and_lower_case_spellings_are_one_key(words: list[str]) -> None:
    text = " ".join("#" + w for w in words)
    # Unicode's default case folding, which tags follow, deliberately maps dotless ı and
    # dotted İ apart from i and I (that equivalence is Turkish-specific).
    if any(ch in text for ch in "ıİ"):
        return
    assert keys(text.upper()) == keys(text.lower()) == keys(text)


@PROPERTY
@given(st.lists(word, min_size=1, max_size=6))
def test_first_appearance_wins_and_order_is_kept(words: list[str]) -> None:
    text = " ".join("#" + w for w in words)
    expected: list[str] = []
    for tag in (parse_hashtags("#" + w) for w in words):
        for one in tag:
            if one.key not in expected:
                expected.append(one.key)
    assert keys(text) == expected


@PROPERTY
@given(any_text)
@example("＃SouthKorea")
@example("﹟x")
def test_normalize_key_reaches_a_fixed_point_on_any_text(text: str) -> None:
    # Tag feed URLs are normalised with it, so it must be idempotent on any input.
    key = normalize_key(text)
    assert normalize_key(key) == key
    assert not key.startswith("#")
