"""Tests for :mod:`rrformat.entity_path`."""

from __future__ import annotations

import copy
import doctest
import fnmatch
import pickle
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rrformat import entity_path as ep_module
from rrformat.entity_path import (
    EntityPath,
    EntityPathPattern,
    PathPart,
    canonical_entity_path,
    parse_entity_path,
)

SEED = 'foo/bar/#42/5678/"CA426571"/a6a5e96c-fd52-4d21-a394-ffbb6e5def1d'
UUID_TEXT = "a6a5e96c-fd52-4d21-a394-ffbb6e5def1d"


# --------------------------------------------------------------------------- #
# Parsing
# --------------------------------------------------------------------------- #


def test_seed_example_round_trips() -> None:
    path = EntityPath.parse(SEED)
    assert str(path) == SEED
    assert [part.kind for part in path.parts] == [
        "name",
        "name",
        "index",
        "integer",
        "string",
        "uuid",
    ]
    assert [part.value for part in path.parts] == [
        "foo",
        "bar",
        42,
        5678,
        "CA426571",
        UUID_TEXT,
    ]
    assert EntityPath.parse(str(path)) == path
    assert canonical_entity_path(SEED) == SEED
    assert parse_entity_path(SEED) == path


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("camera", "name", "camera"),
        ("_x", "name", "_x"),
        ("a-b.c_d9", "name", "a-b.c_d9"),
        ("Z", "name", "Z"),
        ("0", "integer", 0),
        ("5678", "integer", 5678),
        ("000123", "integer", 123),
        ("#0", "index", 0),
        ("#42", "index", 42),
        ("#007", "index", 7),
        ('"hello world"', "string", "hello world"),
        ('""', "string", ""),
        ('"a/b"', "string", "a/b"),
        ('"#1"', "string", "#1"),
        ('"5"', "string", "5"),
        (r'"say \"hi\""', "string", 'say "hi"'),
        (r'"back\\slash"', "string", "back\\slash"),
        (r'"tab\there\nnl\rcr"', "string", "tab\there\nnl\rcr"),
        (r'"\/"', "string", "/"),
        (r'"\u0041\u00e9"', "string", "A\u00e9"),
        ('"ünïcödé ✓"', "string", "ünïcödé ✓"),
        (UUID_TEXT, "uuid", UUID_TEXT),
        (UUID_TEXT.upper(), "uuid", UUID_TEXT),
        (
            "12345678-1234-1234-1234-123456789abc",
            "uuid",
            "12345678-1234-1234-1234-123456789abc",
        ),
    ],
)
def test_part_kinds(text: str, kind: str, value: object) -> None:
    path = EntityPath.parse(f"world/{text}")
    assert len(path.parts) == 2
    assert path.parts[0] == PathPart("name", "world")
    part = path.parts[1]
    assert part.kind == kind
    assert part.value == value
    assert PathPart.parse(text) == part


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("", ""),
        ("/", ""),
        ("/world", "world"),
        ("/world/camera", "world/camera"),
        ("world/#007", "world/#7"),
        ("world/#000", "world/#0"),
        ("world/0042", "world/42"),
        ("world/" + UUID_TEXT.upper(), "world/" + UUID_TEXT),
        ("A6a5E96c-FD52-4d21-A394-ffbb6e5def1d", UUID_TEXT),
        (r'"a\"b"', r'"a\"b"'),
        (r'"a\/b"', '"a/b"'),
        (r'"\u0041"', '"A"'),
        (r'"\u001B"', r'"\u001b"'),
        ('"\x1b\x7f"', r'"\u001b\u007f"'),
        ('"tab\tnl\n"', r'"tab\tnl\n"'),
        (r'"\\"', r'"\\"'),
        ('"a/b"/c', '"a/b"/c'),
    ],
)
def test_canonicalization(text: str, canonical: str) -> None:
    assert canonical_entity_path(text) == canonical
    assert str(EntityPath.parse(text)) == canonical
    # canonical text is a fixed point
    assert canonical_entity_path(canonical) == canonical
    assert EntityPath.parse(canonical) == EntityPath.parse(text)


def test_root_path() -> None:
    for text in ("", "/"):
        root = EntityPath.parse(text)
        assert root.parts == ()
        assert root.is_root
        assert str(root) == ""
        assert root.name == ""
        assert root.parent is None
        assert root.ancestors() == []
        assert root.root() == root
    assert EntityPath() == EntityPath("/")
    assert repr(EntityPath()) == "EntityPath('')"


def test_repr() -> None:
    assert repr(EntityPath("/world/camera")) == "EntityPath('world/camera')"
    assert repr(EntityPath('a/"b c"')) == "EntityPath('a/\"b c\"')"


def test_parse_returns_same_instance_for_paths() -> None:
    path = EntityPath("a/b")
    assert EntityPath.parse(path) is path
    assert EntityPath(path) == path


def test_large_integer_parts() -> None:
    big = "9" * 100
    path = EntityPath.parse(f"a/{big}/#{big}")
    assert path.parts[1].value == int(big)
    assert str(path) == f"a/{big}/#{big}"


# --------------------------------------------------------------------------- #
# Errors
# --------------------------------------------------------------------------- #


def test_error_message_for_empty_part() -> None:
    with pytest.raises(ValueError, match="empty part") as info:
        EntityPath.parse("world//cam")
    assert str(info.value) == ("invalid entity path 'world//cam': empty part at position 6 (part 2)")


def test_error_message_for_bad_part() -> None:
    with pytest.raises(ValueError, match="is not a name") as info:
        EntityPath.parse("a/b c")
    assert str(info.value).startswith(
        "invalid entity path 'a/b c': part 2 'b c' is not a name, \"quoted string\", integer, #index or UUID"
    )


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("world//cam", "empty part at position 6 (part 2)"),
        ("//a", "empty part at position 1 (part 1)"),
        ("a/", "trailing '/'"),
        ("a/b/", "empty part at position 4 (part 3)"),
        ("//", "empty part"),
        ("a/b c", "part 2 'b c' is not a name"),
        (" a", "is not a name"),
        ("a\tb", "is not a name"),
        ("a/b*", "'*' is not allowed"),
        ("1abc", "must not start with a digit"),
        ("5678x", "must not start with a digit"),
        ("-a", "must start with a letter or '_'"),
        (".", "must start with a letter or '_'"),
        ("..", "is not a name"),
        ("-5", "is not a name"),
        ("#", "'#' followed by digits"),
        ("#x", "'#' followed by digits"),
        ("#-1", "'#' followed by digits"),
        ("##1", "'#' followed by digits"),
        ("a/#4 2", "part 2"),
        ('a"b', "quotes must enclose the whole part"),
        ('"abc', "unterminated quoted string starting at position 0 (part 1)"),
        ('a/"b/c', "unterminated quoted string starting at position 2 (part 2)"),
        ('"abc\\', "unterminated"),
        ('"abc\\"', "unterminated"),
        ('"a"b', "unexpected character 'b' after closing quote at position 3"),
        ('"a""b"', "after closing quote"),
        ('"\\q"', "invalid escape '\\\\q' at position 1"),
        ('"\\u12"', "invalid escape"),
        ('"\\uZZZZ"', "invalid escape"),
        ("16a5e96c-fd52-4d21-a394-ffbb6e5def1", "must not start with a digit"),
        ("é", "not allowed in a name"),
        ("a/\u0661", "not allowed in a name"),  # non-ASCII digit
    ],
)
def test_invalid_paths(text: str, hint: str) -> None:
    with pytest.raises(ValueError, match=r"^invalid entity path ") as info:
        EntityPath.parse(text)
    message = str(info.value)
    assert message.startswith(f"invalid entity path {text!r}: "), message
    assert hint in message, message
    # the module-level helpers report the same error
    with pytest.raises(ValueError, match="invalid entity path"):
        canonical_entity_path(text)


@pytest.mark.parametrize("value", [5, None, b"a/b", ["a"], 1.5])
def test_non_str_input_raises_type_error(value: object) -> None:
    name = type(value).__name__
    with pytest.raises(TypeError, match=name):
        EntityPath.parse(value)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=name):
        parse_entity_path(value)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=name):
        EntityPath(value)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- #
# PathPart
# --------------------------------------------------------------------------- #


def test_path_part_str() -> None:
    assert str(PathPart("name", "cam")) == "cam"
    assert str(PathPart("integer", 7)) == "7"
    assert str(PathPart("index", 7)) == "#7"
    assert str(PathPart("string", 'a"b\\c/d')) == '"a\\"b\\\\c/d"'
    assert str(PathPart("uuid", UUID_TEXT.upper())) == UUID_TEXT


def test_path_part_is_frozen_and_hashable() -> None:
    part = PathPart("name", "x")
    with pytest.raises(AttributeError):
        part.value = "y"  # type: ignore[misc]
    assert {part, PathPart("name", "x")} == {part}
    assert PathPart("uuid", UUID_TEXT.upper()) == PathPart("uuid", UUID_TEXT)
    assert pickle.loads(pickle.dumps(part)) == part


@pytest.mark.parametrize(
    ("kind", "value", "error"),
    [
        ("bogus", "x", ValueError),
        ("name", "a b", ValueError),
        ("name", "1a", ValueError),
        ("name", "", ValueError),
        ("name", UUID_TEXT, ValueError),
        ("name", 3, TypeError),
        ("string", 3, TypeError),
        ("integer", -1, ValueError),
        ("integer", "3", TypeError),
        ("integer", True, TypeError),
        ("index", -5, ValueError),
        ("index", 1.0, TypeError),
        ("uuid", "not-a-uuid", ValueError),
    ],
)
def test_path_part_validation(kind: str, value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        PathPart(kind, value)  # type: ignore[arg-type]


def test_path_part_parse_rejects_multiple_parts() -> None:
    with pytest.raises(ValueError, match="exactly one part"):
        PathPart.parse("a/b")
    with pytest.raises(ValueError, match="invalid path part '/a'"):
        PathPart.parse("/a")
    with pytest.raises(ValueError, match="invalid path part ''"):
        PathPart.parse("")


# --------------------------------------------------------------------------- #
# Construction from parts, navigation
# --------------------------------------------------------------------------- #


def test_from_parts() -> None:
    path = EntityPath.from_parts(["world", "a camera", 3, PathPart("index", 0), "5", "#1", "a/b", UUID_TEXT])
    assert str(path) == f'world/"a camera"/3/#0/"5"/"#1"/"a/b"/{UUID_TEXT}'
    assert [p.kind for p in path.parts] == [
        "name",
        "string",
        "integer",
        "index",
        "string",
        "string",
        "string",
        "uuid",
    ]
    assert EntityPath.parse(str(path)) == path
    assert EntityPath.from_parts([]) == EntityPath()
    assert EntityPath.from_parts([uuid.UUID(UUID_TEXT)]) == EntityPath(UUID_TEXT)
    assert EntityPath.from_parts(iter(["a", "b"])) == EntityPath("a/b")


def test_from_parts_errors() -> None:
    with pytest.raises(TypeError, match=r"use EntityPath\.parse"):
        EntityPath.from_parts("abc")
    with pytest.raises(TypeError, match="bool"):
        EntityPath.from_parts([True])
    with pytest.raises(TypeError, match="float"):
        EntityPath.from_parts([1.5])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="non-negative"):
        EntityPath.from_parts([-1])


def test_parent_child_name() -> None:
    path = EntityPath("world/camera/#007")
    assert path.name == "#7"
    assert path.parent == EntityPath("world/camera")
    assert path.parent is not None
    assert path.parent.parent == EntityPath("world")
    assert EntityPath("world").parent == EntityPath()
    assert EntityPath("world").child("camera") == EntityPath("world/camera")
    assert EntityPath("world").child("a/b") == EntityPath('world/"a/b"')
    assert EntityPath("world").child(2) == EntityPath("world/2")
    assert EntityPath("world").child(PathPart("index", 2)) == EntityPath("world/#2")
    assert EntityPath().child("x") == EntityPath("x")
    assert not path.is_root


def test_join_and_truediv() -> None:
    world = EntityPath("world")
    assert world.join("camera/#0") == EntityPath("world/camera/#0")
    assert world.join(EntityPath("a/b")) == EntityPath("world/a/b")
    assert world.join("") == world
    assert world.join("/x") == EntityPath("world/x")
    assert world / "camera" / "image" == EntityPath("world/camera/image")
    assert world / 3 == EntityPath("world/3")
    assert world / PathPart("string", "x y") == EntityPath('world/"x y"')
    assert EntityPath() / "a" == EntityPath("a")
    with pytest.raises(ValueError, match="invalid entity path 'a b'"):
        world / "a b"
    with pytest.raises(TypeError):
        world / 1.5  # type: ignore[operator]


def test_ancestors_and_root() -> None:
    path = EntityPath("world/camera/#0/image")
    assert path.ancestors() == [
        EntityPath(""),
        EntityPath("world"),
        EntityPath("world/camera"),
        EntityPath("world/camera/#0"),
    ]
    assert path.root() == EntityPath("world")
    assert EntityPath("world").root() == EntityPath("world")
    for ancestor in path.ancestors():
        assert ancestor.is_ancestor_of(path)
        assert path.is_descendant_of(ancestor)


def test_ancestor_relations_are_strict_and_part_based() -> None:
    a = EntityPath("a")
    assert a.is_ancestor_of("a/b")
    assert a.is_ancestor_of(EntityPath("a/b/c"))
    assert not a.is_ancestor_of("a")
    assert not a.is_descendant_of("a")
    assert not a.is_ancestor_of("ab")
    assert not a.is_ancestor_of("b/a")
    assert not EntityPath("a/b").is_ancestor_of("a")
    assert EntityPath("a/b").is_descendant_of("a")
    assert EntityPath("a/#7").is_descendant_of("/a")
    assert EntityPath("x/#7/y").is_descendant_of("x/#007")
    assert EntityPath().is_ancestor_of("a")
    assert not EntityPath().is_ancestor_of("")
    assert not EntityPath().is_descendant_of("")


# --------------------------------------------------------------------------- #
# Equality, hashing, ordering, immutability
# --------------------------------------------------------------------------- #


def test_equality_and_hashing_use_canonical_form() -> None:
    spellings = ["/world/#007", "world/#7", "world/#0007"]
    paths = {EntityPath(text) for text in spellings}
    assert len(paths) == 1
    assert EntityPath(UUID_TEXT.upper()) == EntityPath(UUID_TEXT)
    assert hash(EntityPath(UUID_TEXT.upper())) == hash(EntityPath(UUID_TEXT))
    assert EntityPath("a/b") != EntityPath("a/c")
    # quoted strings, names, integers and indices are different kinds of part
    assert EntityPath('"a"') != EntityPath("a")
    assert EntityPath('"5"') != EntityPath("5")
    assert EntityPath("#5") != EntityPath("5")
    # a path never equals a plain string
    assert EntityPath("a") != "a"
    assert {EntityPath("a"): 1}[EntityPath("/a")] == 1


def test_ordering() -> None:
    texts = ["b", "a/z", "a", "", "a/b", "a/#1", "a/1", 'a/"x"']
    ordered = sorted(EntityPath(text) for text in texts)
    assert ordered == [
        EntityPath(""),
        EntityPath("a"),
        EntityPath('a/"x"'),
        EntityPath("a/#1"),
        EntityPath("a/1"),
        EntityPath("a/b"),
        EntityPath("a/z"),
        EntityPath("b"),
    ]
    assert EntityPath("a") < EntityPath("a/b") < EntityPath("b")
    assert EntityPath("a") <= EntityPath("a")
    assert EntityPath("b") > EntityPath("a/z")
    assert EntityPath("b") >= EntityPath("b")
    # ordering is per part, not per character: "a/b" < "a-b" even though "/" > "-"
    assert EntityPath("a/b") < EntityPath("a-b")
    with pytest.raises(TypeError):
        _ = EntityPath("a") < "b"  # type: ignore[operator]


def test_immutability_and_copying() -> None:
    path = EntityPath("a/b")
    with pytest.raises(AttributeError):
        path._text = "x"
    with pytest.raises(AttributeError):
        path.foo = 1
    with pytest.raises(AttributeError):
        del path._text
    assert not hasattr(path, "__dict__")
    assert pickle.loads(pickle.dumps(path)) == path
    assert copy.copy(path) is path
    assert copy.deepcopy(path) is path
    pattern = EntityPathPattern("a/**")
    assert pickle.loads(pickle.dumps(pattern)) == pattern
    with pytest.raises(AttributeError):
        pattern._text = "x"


# --------------------------------------------------------------------------- #
# Glob patterns
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        # exact / canonicalized literals
        ("world/camera", "world/camera", True),
        ("/world/camera", "world/camera", True),
        ("world/#007", "world/#7", True),
        ("world/007", "world/7", True),
        ("world/#7", "world/7", False),
        ("world/" + UUID_TEXT.upper(), "world/" + UUID_TEXT, True),
        ('"a b"', '"a b"', True),
        ('"a*"', '"a*"', True),
        ('"a*"', '"ab"', False),
        ("world", "world/camera", False),
        ("world/camera", "world", False),
        ("", "", True),
        ("", "a", False),
        # single-part star
        ("*", "a", True),
        ("*", "#3", True),
        ("*", "", False),
        ("*", "a/b", False),
        ("world/*", "world/camera", True),
        ("world/*", 'world/"x/y"', True),
        ("world/*", "world", False),
        ("world/*", "world/camera/image", False),
        ("*/camera", "robot/camera", True),
        ("*/*", "a/b", True),
        ("*/*", "a", False),
        # globstar
        ("**", "", True),
        ("**", "a", True),
        ("**", "a/b/c/#4", True),
        ("world/**", "world", True),
        ("world/**", "world/camera", True),
        ("world/**", "world/camera/#0/image", True),
        ("world/**", "worlds", False),
        ("world/**", "other/world", False),
        ("world/**", "", False),
        ("world/**/image", "world/image", True),
        ("world/**/image", "world/camera/image", True),
        ("world/**/image", "world/a/b/c/image", True),
        ("world/**/image", "world/camera/image/extra", False),
        ("world/**/image", "world/camera", False),
        ("**/image", "image", True),
        ("**/image", "a/b/image", True),
        ("**/image", "a/b/images", False),
        ("**/#0/**", "world/camera/#0/image", True),
        ("**/#0/**", "world/camera/#1/image", False),
        ("a/**/**/b", "a/b", True),
        ("a/**/*/b", "a/b", False),
        ("a/**/*/b", "a/x/b", True),
        ("a/*/**", "a", False),
        ("a/*/**", "a/x", True),
        # wildcards inside a part
        ("world/cam*", "world/camera", True),
        ("world/cam*", "world/cam", True),
        ("world/cam*", "world/webcam", False),
        ("world/*cam*", "world/webcam2", True),
        ("world/c*a", "world/camera", True),
        ("world/c*a", "world/camerab", False),
        ("world/#1*", "world/#12", True),
        ("world/#1*", "world/12", False),
        ("world/#*", "world/#0", True),
        ("world/1*", "world/123", True),
        ("world/cam*", 'world/"camera"', False),
        ("world/a6a5*", "world/" + UUID_TEXT.upper(), True),
        ("**/cam*/**", "world/robot/camera/#0/image", True),
    ],
)
def test_glob_matching(pattern: str, path: str, expected: bool) -> None:
    assert EntityPathPattern.parse(pattern).matches(path) is expected
    assert EntityPathPattern(pattern).matches(EntityPath(path)) is expected
    assert EntityPath(path).matches(pattern) is expected
    assert EntityPath(path).matches(EntityPathPattern(pattern)) is expected


@pytest.mark.parametrize(
    ("pattern", "canonical"),
    [
        ("", ""),
        ("/", ""),
        ("/world/#007/**", "world/#7/**"),
        ("**/**/a/**/**", "**/a/**"),
        ("a/cam**era", "a/cam*era"),
        ('"x"/*', '"x"/*'),
        ("a/0012", "a/12"),
    ],
)
def test_pattern_canonical_text(pattern: str, canonical: str) -> None:
    parsed = EntityPathPattern.parse(pattern)
    assert str(parsed) == canonical
    assert EntityPathPattern(canonical) == parsed
    assert hash(EntityPathPattern(canonical)) == hash(parsed)
    assert repr(parsed) == f"EntityPathPattern({canonical!r})"
    assert EntityPathPattern.parse(parsed) is parsed


@pytest.mark.parametrize(
    ("pattern", "hint"),
    [
        ("a//b", "empty part at position 2 (part 2)"),
        ("a/", "trailing '/'"),
        ("a/c am*", "contains ' '"),
        ('a/"b*', "unterminated"),
        ("a/b c", "is not a name"),
        ("a/?", "is not a name"),
        ("a/[ab]", "is not a name"),
    ],
)
def test_invalid_patterns(pattern: str, hint: str) -> None:
    with pytest.raises(ValueError, match=r"^invalid entity path pattern ") as info:
        EntityPathPattern.parse(pattern)
    message = str(info.value)
    assert message.startswith(f"invalid entity path pattern {pattern!r}: "), message
    assert hint in message, message


def test_pattern_type_errors() -> None:
    with pytest.raises(TypeError, match="int"):
        EntityPathPattern(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="list"):
        EntityPath("a").matches(["a"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="invalid entity path 'a b'"):
        EntityPathPattern("**").matches("a b")


def test_matching_has_no_exponential_blowup() -> None:
    path = EntityPath.from_parts(["a"] * 300)
    pattern = EntityPathPattern("/".join(["**", "a"] * 20) + "/**/b")
    long_name = EntityPath.from_parts(["a" * 5000])
    wildcard = EntityPathPattern("a*a*a*a*a*a*a*a*a*a*b")
    # An exponential matcher would not finish; pytest-timeout turns that into a failure.
    assert not pattern.matches(path)
    assert not wildcard.matches(long_name)
    assert EntityPathPattern("**/a/**/a/**").matches(path)


# --------------------------------------------------------------------------- #
# Doctests
# --------------------------------------------------------------------------- #


def test_doctests() -> None:
    result = doctest.testmod(ep_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 20
    assert result.failed == 0


# --------------------------------------------------------------------------- #
# Property tests
# --------------------------------------------------------------------------- #

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,12}", fullmatch=True).filter(
    lambda s: ep_module._UUID_RE.fullmatch(s) is None
)
# include control characters and lone surrogates, which need escaping
strings = st.text(
    alphabet=st.characters(exclude_categories=()),
    max_size=12,
)
uuids = st.uuids().map(str)
parts: st.SearchStrategy[PathPart] = st.one_of(
    names.map(lambda v: PathPart("name", v)),
    strings.map(lambda v: PathPart("string", v)),
    st.integers(min_value=0, max_value=10**30).map(lambda v: PathPart("integer", v)),
    st.integers(min_value=0, max_value=10**30).map(lambda v: PathPart("index", v)),
    uuids.map(lambda v: PathPart("uuid", v)),
    uuids.map(lambda v: PathPart("uuid", v.upper())),
)
paths = st.lists(parts, max_size=8).map(EntityPath.from_parts)
raw_parts = st.one_of(
    parts,
    st.text(max_size=10),
    st.integers(min_value=0, max_value=10**6),
    st.uuids(),
)


@given(paths)
def test_round_trip(path: EntityPath) -> None:
    text = str(path)
    reparsed = EntityPath.parse(text)
    assert reparsed == path
    assert reparsed.parts == path.parts
    assert str(reparsed) == text
    assert canonical_entity_path(text) == text
    assert hash(reparsed) == hash(path)
    assert EntityPath.parse("/" + text) == path
    assert eval(repr(path), {"EntityPath": EntityPath}) == path


@given(st.lists(raw_parts, max_size=6))
def test_from_parts_round_trip(items: list[PathPart | str | int | uuid.UUID]) -> None:
    path = EntityPath.from_parts(items)
    assert len(path.parts) == len(items)
    assert EntityPath.parse(str(path)) == path
    for item, part in zip(items, path.parts, strict=True):
        if isinstance(item, str) and ep_module._UUID_RE.fullmatch(item) is None:
            # plain strings are names or quoted strings, never split or reinterpreted
            assert part.value == item


@given(paths)
def test_globstar_matches_everything(path: EntityPath) -> None:
    assert path.matches("**")
    assert path.matches("**/**")
    assert path.matches("/".join(["*"] * len(path.parts)))
    if not path.is_root:
        assert path.root().matches(str(path.root()) + "/**")
        assert path.matches(str(path.root()) + "/**")
        assert path.matches("**/" + path.name)


@given(paths, paths)
def test_literal_pattern_matches_only_itself(a: EntityPath, b: EntityPath) -> None:
    pattern = EntityPathPattern(str(a))
    assert pattern.matches(a)
    assert pattern.matches(b) is (a == b)


@given(paths, st.lists(parts, min_size=1, max_size=4).map(EntityPath.from_parts))
def test_ancestry(path: EntityPath, suffix: EntityPath) -> None:
    child = path / suffix
    assert path.is_ancestor_of(child)
    assert child.is_descendant_of(path)
    assert not child.is_ancestor_of(path)
    assert not path.is_ancestor_of(path)
    assert path < child
    assert child.parent is not None
    assert child.parent == path or path.is_ancestor_of(child.parent)
    assert path in child.ancestors()
    assert child.ancestors()[: len(path.parts) + 1] == [*path.ancestors(), path]
    assert child.matches(str(path) + "/**" if not path.is_root else "**")


@given(paths, paths)
def test_ordering_is_consistent(a: EntityPath, b: EntityPath) -> None:
    assert (a < b) + (a == b) + (a > b) == 1
    assert (a <= b) == (a < b or a == b)
    assert (a == b) == (str(a) == str(b))


# A tiny reference matcher: exponential in the worst case, fine for small inputs.
def _reference_match(tokens: list[str], items: list[str]) -> bool:
    if not tokens:
        return not items
    head, rest = tokens[0], tokens[1:]
    if head == "**":
        return any(_reference_match(rest, items[i:]) for i in range(len(items) + 1))
    if not items:
        return False
    if head == "*" or fnmatch.fnmatchcase(items[0], head):
        return _reference_match(rest, items[1:])
    return False


pattern_tokens = st.sampled_from(["**", "*", "a", "b", "a*", "*b", "a*b", "#1", "#*"])
path_items = st.sampled_from(["a", "b", "ab", "ba", "aab", "#1", "#12", "1"])


@settings(max_examples=300)
@given(st.lists(pattern_tokens, max_size=6), st.lists(path_items, max_size=6))
def test_glob_agrees_with_reference(tokens: list[str], items: list[str]) -> None:
    pattern = EntityPathPattern("/".join(tokens))
    path = EntityPath("/".join(items))
    assert pattern.matches(path) is _reference_match(tokens, items)


@given(
    st.text(alphabet="ab*", max_size=8),
    st.text(alphabet="ab", max_size=10),
)
def test_wildcard_agrees_with_fnmatch(pattern: str, text: str) -> None:
    assert ep_module._wildcard_match(pattern, text) is fnmatch.fnmatchcase(text, pattern)
