r"""Entity paths: hierarchical names such as ``world/camera/#0/image``.

An entity path is a sequence of *parts* separated by ``/``.  A single leading
``/`` is allowed and dropped; the empty string (or ``/`` alone) is the root
path, which has no parts.  Empty parts (``a//b``) and a trailing ``/`` are
errors.  Each part is one of:

name
    ``[A-Za-z_][A-Za-z0-9_.-]*`` that is not shaped like a UUID, e.g. ``camera``.
integer
    ``[0-9]+``, e.g. ``5678``; canonically written without leading zeros.
index
    ``#`` followed by digits, e.g. ``#42``; canonically without leading zeros.
quoted string
    ``"..."`` with the escapes ``\"``, ``\\``, ``\/``, ``\n``, ``\t``,
    ``\r`` and ``\uXXXX``.  A ``/`` may appear literally inside the quotes.
UUID
    8-4-4-4-12 hexadecimal digits, canonically lowercase.

Every path has a single canonical text (see :func:`canonical_entity_path`);
two paths are equal exactly when their canonical texts are equal, and
``EntityPath.parse(str(path)) == path`` always holds.

Examples
--------
>>> path = EntityPath.parse('/world/camera/#007/"CA 42"')
>>> str(path)
'world/camera/#7/"CA 42"'
>>> [part.kind for part in path.parts]
['name', 'name', 'index', 'string']
>>> path.matches("world/**")
True
"""

from __future__ import annotations

import dataclasses
import functools
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Literal, NoReturn, TypeVar, cast

__all__ = [
    "EntityPath",
    "EntityPathPattern",
    "PartKind",
    "PathPart",
    "canonical_entity_path",
    "parse_entity_path",
]

PartKind = Literal["name", "string", "integer", "index", "uuid"]
"""The kind of a :class:`PathPart`."""

_KINDS: frozenset[str] = frozenset({"name", "string", "integer", "index", "uuid"})

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_INTEGER_RE = re.compile(r"[0-9]+")
_INDEX_RE = re.compile(r"#[0-9]+")
_UUID_RE = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.")
_WILDCARD_CHARS = _NAME_CHARS | {"#", "*"}

_SIMPLE_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "t": "\t", "r": "\r"}
_CANONICAL_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_NOT_A_PART = 'is not a name, "quoted string", integer, #index or UUID'

_T = TypeVar("_T")
_U = TypeVar("_U")


# --------------------------------------------------------------------------- #
# Parts
# --------------------------------------------------------------------------- #


def _quote(value: str) -> str:
    """Return the canonical quoted form of a string part's value."""
    out = ['"']
    for ch in value:
        escaped = _CANONICAL_ESCAPES.get(ch)
        if escaped is not None:
            out.append(escaped)
            continue
        code = ord(ch)
        if code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


@dataclasses.dataclass(frozen=True, slots=True)
class PathPart:
    r"""One part of an :class:`EntityPath`.

    Parameters
    ----------
    kind : {"name", "string", "integer", "index", "uuid"}
        What sort of part this is.
    value : str or int
        A ``str`` for names, strings and UUIDs (UUIDs are stored lowercase);
        a non-negative ``int`` for integers and ``#`` indices.

    Raises
    ------
    ValueError
        If *kind* is unknown or *value* is not valid for *kind* (for example
        a name containing a space, a negative integer or a malformed UUID).
    TypeError
        If *value* has the wrong type for *kind*.

    Examples
    --------
    >>> str(PathPart("index", 42))
    '#42'
    >>> str(PathPart("string", 'say "hi"'))
    '"say \\"hi\\""'
    >>> PathPart("uuid", "A6A5E96C-FD52-4D21-A394-FFBB6E5DEF1D").value
    'a6a5e96c-fd52-4d21-a394-ffbb6e5def1d'
    >>> PathPart.parse("#007")
    PathPart(kind='index', value=7)
    """

    kind: PartKind
    value: str | int

    def __post_init__(self) -> None:
        kind: str = self.kind
        value: object = self.value
        if kind not in _KINDS:
            raise ValueError(f"unknown path part kind {kind!r}; expected one of {sorted(_KINDS)}")
        if kind in ("integer", "index"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"a {kind} path part needs an int value, not {type(value).__name__}")
            if value < 0:
                raise ValueError(f"a {kind} path part must be non-negative, got {value}")
            return
        if not isinstance(value, str):
            raise TypeError(f"a {kind} path part needs a str value, not {type(value).__name__}")
        if kind == "name":
            if _NAME_RE.fullmatch(value) is None:
                raise ValueError(f"{value!r} is not a valid name: names match [A-Za-z_][A-Za-z0-9_.-]*")
            if _UUID_RE.fullmatch(value) is not None:
                raise ValueError(f"{value!r} is shaped like a UUID; use kind='uuid' instead")
        elif kind == "uuid":
            if _UUID_RE.fullmatch(value) is None:
                raise ValueError(f"{value!r} is not a UUID (8-4-4-4-12 hexadecimal digits)")
            object.__setattr__(self, "value", value.lower())

    def __str__(self) -> str:
        """Return the canonical text of the part.

        Examples
        --------
        >>> str(PathPart("integer", 7)), str(PathPart("name", "cam"))
        ('7', 'cam')
        """
        if self.kind == "integer":
            return str(self.value)
        if self.kind == "index":
            return f"#{self.value}"
        if self.kind == "string":
            return _quote(cast(str, self.value))
        return cast(str, self.value)

    @classmethod
    def parse(cls, text: str) -> PathPart:
        """Parse the text of a single part, e.g. ``#7`` or ``"a/b"``.

        Parameters
        ----------
        text : str
            The part, using the entity path syntax.

        Returns
        -------
        PathPart
            The parsed part.

        Raises
        ------
        ValueError
            If *text* is not exactly one valid part.
        TypeError
            If *text* is not a ``str``.

        Examples
        --------
        >>> PathPart.parse('"a/b"')
        PathPart(kind='string', value='a/b')
        >>> PathPart.parse("0042")
        PathPart(kind='integer', value=42)
        """
        if not isinstance(text, str):
            raise TypeError(f"path part must be a str, not {type(text).__name__}")
        raws = _scan(text, "path part", allow_leading_slash=False)
        if len(raws) != 1:
            _fail(text, "path part", "expected exactly one part")
        return _classify(text, raws[0], "path part")


def _coerce_part(part: object) -> PathPart:
    """Turn a user-supplied part into a :class:`PathPart`."""
    if isinstance(part, PathPart):
        return part
    if isinstance(part, bool):
        raise TypeError("entity path part must be a PathPart, str, int or UUID, not bool")
    if isinstance(part, int):
        return PathPart("integer", part)
    if isinstance(part, uuid.UUID):
        return PathPart("uuid", str(part))
    if isinstance(part, str):
        if _UUID_RE.fullmatch(part) is not None:
            return PathPart("uuid", part)
        if _NAME_RE.fullmatch(part) is not None:
            return PathPart("name", part)
        return PathPart("string", part)
    raise TypeError(f"entity path part must be a PathPart, str, int or UUID, not {type(part).__name__}")


# --------------------------------------------------------------------------- #
# Scanning
# --------------------------------------------------------------------------- #


@dataclasses.dataclass(frozen=True, slots=True)
class _RawPart:
    text: str  # the part's source text, quotes included
    start: int  # offset of the part in the full text
    number: int  # 1-based part number
    string: str | None  # decoded value if the part was quoted


def _fail(text: str, what: str, message: str) -> NoReturn:
    raise ValueError(f"invalid {what} {text!r}: {message}")


def _scan(text: str, what: str, *, allow_leading_slash: bool = True) -> list[_RawPart]:
    """Split *text* into raw parts, decoding quoted strings."""
    n = len(text)
    pos = 1 if allow_leading_slash and text.startswith("/") else 0
    if pos == n:
        return []
    raws: list[_RawPart] = []
    while True:
        number = len(raws) + 1
        start = pos
        if pos < n and text[pos] == '"':
            value, pos = _scan_quoted(text, pos, number, what)
            if pos < n and text[pos] != "/":
                _fail(
                    text,
                    what,
                    f"unexpected character {text[pos]!r} after closing quote "
                    f"at position {pos} (part {number}); "
                    "quotes must enclose the whole part",
                )
            raws.append(_RawPart(text[start:pos], start, number, value))
        else:
            end = text.find("/", pos)
            if end < 0:
                end = n
            if end == start:
                hint = "; a trailing '/' is not allowed" if end == n else ""
                _fail(text, what, f"empty part at position {start} (part {number}){hint}")
            raws.append(_RawPart(text[start:end], start, number, None))
            pos = end
        if pos == n:
            return raws
        pos += 1  # skip the separator
        if pos == n:
            _fail(
                text,
                what,
                f"empty part at position {pos} (part {number + 1}); a trailing '/' is not allowed",
            )


def _scan_quoted(text: str, start: int, number: int, what: str) -> tuple[str, int]:
    """Decode the quoted string at *start*; return it and the offset after it."""
    n = len(text)
    out: list[str] = []
    pos = start + 1
    unterminated = f"unterminated quoted string starting at position {start} (part {number})"
    while True:
        if pos >= n:
            _fail(
                text,
                what,
                unterminated,
            )
        ch = text[pos]
        if ch == '"':
            return "".join(out), pos + 1
        if ch != "\\":
            out.append(ch)
            pos += 1
            continue
        if pos + 1 >= n:
            _fail(
                text,
                what,
                unterminated,
            )
        esc = text[pos + 1]
        simple = _SIMPLE_ESCAPES.get(esc)
        if simple is not None:
            out.append(simple)
            pos += 2
            continue
        if esc == "u":
            digits = text[pos + 2 : pos + 6]
            if len(digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in digits):
                out.append(chr(int(digits, 16)))
                pos += 6
                continue
        bad = text[pos : pos + 6] if esc == "u" else text[pos : pos + 2]
        _fail(
            text,
            what,
            f"invalid escape {bad!r} at position {pos} (part {number}); "
            'supported escapes are \\", \\\\, \\/, \\n, \\t, \\r and \\uXXXX',
        )


def _hint(segment: str) -> str:
    """Explain why an unquoted segment is not a valid part."""
    if segment.startswith("#"):
        return "an #index is '#' followed by digits only"
    if '"' in segment:
        return "quotes must enclose the whole part"
    for ch in segment:
        if ch not in _NAME_CHARS:
            return f"character {ch!r} is not allowed in a name; quote the part to use it"
    if segment[0].isdigit():
        return "a name must not start with a digit"
    return "a name must start with a letter or '_'"


def _classify(text: str, raw: _RawPart, what: str) -> PathPart:
    """Turn a raw part into a :class:`PathPart`, raising a helpful error."""
    if raw.string is not None:
        return PathPart("string", raw.string)
    seg = raw.text
    if _UUID_RE.fullmatch(seg) is not None:
        return PathPart("uuid", seg.lower())
    digits: str | None = None
    if _INDEX_RE.fullmatch(seg) is not None:
        digits = seg[1:]
    elif _INTEGER_RE.fullmatch(seg) is not None:
        digits = seg
    if digits is not None:
        try:
            number = int(digits.lstrip("0") or "0")
        except ValueError:
            _fail(
                text,
                what,
                f"part {raw.number} at position {raw.start} is too large a number",
            )
        return PathPart("index" if seg.startswith("#") else "integer", number)
    if _NAME_RE.fullmatch(seg) is not None:
        return PathPart("name", seg)
    _fail(text, what, f"part {raw.number} {seg!r} {_NOT_A_PART} ({_hint(seg)})")


def _parse_parts(text: str) -> tuple[PathPart, ...]:
    return tuple(_classify(text, raw, "entity path") for raw in _scan(text, "entity path"))


# --------------------------------------------------------------------------- #
# Entity paths
# --------------------------------------------------------------------------- #


class EntityPath:
    """An immutable, hashable, ordered entity path such as ``world/camera/#0``.

    Parameters
    ----------
    path : str or EntityPath, optional
        The path text (see the module documentation for the grammar).  The
        default, ``""``, is the root path.

    Raises
    ------
    ValueError
        If *path* is not a valid entity path; the message quotes the whole
        path and points at the offending part.
    TypeError
        If *path* is neither a ``str`` nor an :class:`EntityPath`.

    Notes
    -----
    Equality and hashing use the canonical form.  Ordering compares the
    tuples of canonical part texts, so a path sorts right after its parent's
    earlier siblings and before its own descendants' later siblings.

    Examples
    --------
    >>> cam = EntityPath("/world/camera")
    >>> cam
    EntityPath('world/camera')
    >>> cam / "#0/image"
    EntityPath('world/camera/#0/image')
    >>> cam.parent, cam.name
    (EntityPath('world'), 'camera')
    >>> EntityPath("world/#007") == EntityPath("world/#7")
    True
    >>> sorted([EntityPath("b"), EntityPath("a/z"), EntityPath("a")])
    [EntityPath('a'), EntityPath('a/z'), EntityPath('b')]
    """

    __slots__ = ("_hash", "_key", "_parts", "_text")

    _parts: tuple[PathPart, ...]
    _key: tuple[str, ...]
    _text: str
    _hash: int

    def __init__(self, path: str | EntityPath = "") -> None:
        if isinstance(path, EntityPath):
            parts = path._parts
        elif isinstance(path, str):
            parts = _parse_parts(path)
        else:
            raise TypeError(f"entity path must be a str or EntityPath, not {type(path).__name__}")
        self._init(parts)

    def _init(self, parts: tuple[PathPart, ...]) -> None:
        key = tuple(str(part) for part in parts)
        object.__setattr__(self, "_parts", parts)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_text", "/".join(key))
        object.__setattr__(self, "_hash", hash(key))

    @classmethod
    def _make(cls, parts: tuple[PathPart, ...]) -> EntityPath:
        obj = object.__new__(cls)
        obj._init(parts)
        return obj

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __reduce__(self) -> tuple[type[EntityPath], tuple[str]]:
        return (type(self), (self._text,))

    def __copy__(self) -> EntityPath:
        return self

    def __deepcopy__(self, memo: object) -> EntityPath:
        return self

    # -- construction ------------------------------------------------------ #

    @classmethod
    def parse(cls, text: str | EntityPath) -> EntityPath:
        """Parse *text* into an entity path.

        Parameters
        ----------
        text : str or EntityPath
            The path text; an :class:`EntityPath` is returned unchanged.

        Returns
        -------
        EntityPath
            The parsed path.

        Raises
        ------
        ValueError
            If *text* is not a valid entity path.
        TypeError
            If *text* is neither a ``str`` nor an :class:`EntityPath`.

        Examples
        --------
        >>> EntityPath.parse("world/#42/5678/A6A5E96C-FD52-4D21-A394-FFBB6E5DEF1D")
        EntityPath('world/#42/5678/a6a5e96c-fd52-4d21-a394-ffbb6e5def1d')
        >>> EntityPath.parse("world//cam")
        Traceback (most recent call last):
            ...
        ValueError: invalid entity path 'world//cam': empty part at position 6 (part 2)
        """
        if type(text) is cls:
            return text
        return cls(text)

    @classmethod
    def from_parts(cls, parts: Iterable[PathPart | str | int | uuid.UUID]) -> EntityPath:
        """Build a path from individual parts.

        Parameters
        ----------
        parts : iterable of PathPart, str, int or uuid.UUID
            A ``str`` becomes a UUID part if it is shaped like a UUID, a name
            if it is a valid name, and a quoted string otherwise (it is never
            parsed as a path, so ``"a/b"`` is one part).  An ``int`` becomes
            an integer part; a :class:`uuid.UUID` a UUID part.

        Returns
        -------
        EntityPath
            The path made of *parts*.

        Raises
        ------
        TypeError
            If *parts* is a ``str`` itself, or a part has an unsupported type.
        ValueError
            If an ``int`` part is negative.

        Examples
        --------
        >>> EntityPath.from_parts(["world", "a camera", 3, PathPart("index", 0)])
        EntityPath('world/"a camera"/3/#0')
        >>> EntityPath.from_parts([])
        EntityPath('')
        """
        if isinstance(parts, (str, bytes)):
            raise TypeError(
                "from_parts expects an iterable of parts, not a single "
                f"{type(parts).__name__}; use EntityPath.parse to parse path text"
            )
        return cls._make(tuple(_coerce_part(part) for part in parts))

    # -- basic protocol ---------------------------------------------------- #

    @property
    def parts(self) -> tuple[PathPart, ...]:
        """The parts of the path, outermost first.

        Examples
        --------
        >>> EntityPath("world/#3").parts
        (PathPart(kind='name', value='world'), PathPart(kind='index', value=3))
        """
        return self._parts

    def __str__(self) -> str:
        r"""Return the canonical form: parts joined by ``/``, no leading slash.

        Examples
        --------
        >>> str(EntityPath('/a/"x\\/y"/0012'))
        'a/"x/y"/12'
        >>> str(EntityPath("/"))
        ''
        """
        return self._text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._text!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EntityPath):
            return NotImplemented
        return self._key == other._key

    def __ne__(self, other: object) -> bool:
        if not isinstance(other, EntityPath):
            return NotImplemented
        return self._key != other._key

    def __hash__(self) -> int:
        return self._hash

    def __lt__(self, other: EntityPath) -> bool:
        if not isinstance(other, EntityPath):
            return NotImplemented
        return self._key < other._key

    def __le__(self, other: EntityPath) -> bool:
        if not isinstance(other, EntityPath):
            return NotImplemented
        return self._key <= other._key

    def __gt__(self, other: EntityPath) -> bool:
        if not isinstance(other, EntityPath):
            return NotImplemented
        return self._key > other._key

    def __ge__(self, other: EntityPath) -> bool:
        if not isinstance(other, EntityPath):
            return NotImplemented
        return self._key >= other._key

    # -- navigation -------------------------------------------------------- #

    @property
    def is_root(self) -> bool:
        """Whether this is the root path (no parts).

        Examples
        --------
        >>> EntityPath("").is_root, EntityPath("/").is_root, EntityPath("a").is_root
        (True, True, False)
        """
        return not self._parts

    @property
    def parent(self) -> EntityPath | None:
        """The path without its last part, or ``None`` for the root.

        Examples
        --------
        >>> EntityPath("a/b").parent
        EntityPath('a')
        >>> EntityPath("a").parent
        EntityPath('')
        >>> EntityPath("").parent is None
        True
        """
        if not self._parts:
            return None
        return self._make(self._parts[:-1])

    @property
    def name(self) -> str:
        """The canonical text of the last part (``""`` for the root).

        Examples
        --------
        >>> EntityPath("world/#07").name
        '#7'
        """
        return self._key[-1] if self._key else ""

    def child(self, part: PathPart | str | int | uuid.UUID) -> EntityPath:
        """Return this path extended by a single part.

        Parameters
        ----------
        part : PathPart, str, int or uuid.UUID
            The new last part, interpreted as in :meth:`from_parts` (a
            ``str`` is never split on ``/``).

        Returns
        -------
        EntityPath
            The child path.

        Examples
        --------
        >>> EntityPath("world").child("camera")
        EntityPath('world/camera')
        >>> EntityPath("world").child("a/b")
        EntityPath('world/"a/b"')
        >>> EntityPath("world").child(5)
        EntityPath('world/5')
        """
        return self._make((*self._parts, _coerce_part(part)))

    def join(self, other: str | EntityPath) -> EntityPath:
        """Append another path (parsed if given as text) to this one.

        A leading ``/`` on *other* is dropped like everywhere else; it does
        not make *other* replace this path.

        Parameters
        ----------
        other : str or EntityPath
            The relative path to append.

        Returns
        -------
        EntityPath
            The concatenated path.

        Examples
        --------
        >>> EntityPath("world").join("camera/#0")
        EntityPath('world/camera/#0')
        >>> EntityPath("world").join("")
        EntityPath('world')
        """
        return self._make(self._parts + EntityPath.parse(other)._parts)

    def __truediv__(self, other: str | EntityPath | PathPart | int) -> EntityPath:
        """Join with ``/``: text or paths are joined, a part or int is appended.

        Examples
        --------
        >>> EntityPath("world") / "camera" / 3
        EntityPath('world/camera/3')
        """
        if isinstance(other, (str, EntityPath)):
            return self.join(other)
        if isinstance(other, (PathPart, int)):
            return self.child(other)
        return NotImplemented

    def is_ancestor_of(self, other: str | EntityPath) -> bool:
        """Whether *other* lies strictly below this path.

        Examples
        --------
        >>> EntityPath("a").is_ancestor_of("a/b/c"), EntityPath("a").is_ancestor_of("a")
        (True, False)
        >>> EntityPath("").is_ancestor_of("a")
        True
        """
        key = EntityPath.parse(other)._key
        return len(self._key) < len(key) and key[: len(self._key)] == self._key

    def is_descendant_of(self, other: str | EntityPath) -> bool:
        """Whether this path lies strictly below *other*.

        Examples
        --------
        >>> EntityPath("a/b").is_descendant_of("a")
        True
        >>> EntityPath("ab").is_descendant_of("a")
        False
        """
        return EntityPath.parse(other).is_ancestor_of(self)

    def ancestors(self) -> list[EntityPath]:
        """All strict ancestors, from the root down to the parent.

        Examples
        --------
        >>> EntityPath("a/b/c").ancestors()
        [EntityPath(''), EntityPath('a'), EntityPath('a/b')]
        >>> EntityPath("").ancestors()
        []
        """
        return [self._make(self._parts[:i]) for i in range(len(self._parts))]

    def root(self) -> EntityPath:
        """Return the top-level path: the first part only (the root for the root).

        Examples
        --------
        >>> EntityPath("world/camera/image").root()
        EntityPath('world')
        """
        return self._make(self._parts[:1])

    def matches(self, pattern: str | EntityPathPattern) -> bool:
        """Whether this path matches a glob *pattern* (see :class:`EntityPathPattern`).

        Examples
        --------
        >>> EntityPath("world/camera/image").matches("world/**/image")
        True
        >>> EntityPath("world/camera/image").matches("world/*")
        False
        """
        if isinstance(pattern, EntityPathPattern):
            return pattern.matches(self)
        if not isinstance(pattern, str):
            raise TypeError(f"entity path pattern must be a str or EntityPathPattern, not {type(pattern).__name__}")
        return _compile_pattern(pattern).matches(self)


def parse_entity_path(text: str) -> EntityPath:
    """Parse *text* into an :class:`EntityPath`.

    Parameters
    ----------
    text : str
        The path text.

    Returns
    -------
    EntityPath
        The parsed path.

    Raises
    ------
    ValueError
        If *text* is not a valid entity path.
    TypeError
        If *text* is not a ``str``.

    Examples
    --------
    >>> parse_entity_path("world/camera").parts[-1]
    PathPart(kind='name', value='camera')
    >>> parse_entity_path('a/"b')  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: invalid entity path 'a/"b': unterminated quoted string ...
    """
    if not isinstance(text, str):
        raise TypeError(f"entity path must be a str, not {type(text).__name__}")
    return EntityPath(text)


def canonical_entity_path(text: str) -> str:
    """Return the canonical text of the entity path *text*.

    Parameters
    ----------
    text : str
        The path text.

    Returns
    -------
    str
        The canonical form: no leading slash, integers and indices without
        leading zeros, UUIDs lowercase, strings quoted with canonical escapes.

    Raises
    ------
    ValueError
        If *text* is not a valid entity path.
    TypeError
        If *text* is not a ``str``.

    Examples
    --------
    >>> canonical_entity_path("/world/#007/0042/A6A5E96C-FD52-4D21-A394-FFBB6E5DEF1D")
    'world/#7/42/a6a5e96c-fd52-4d21-a394-ffbb6e5def1d'
    """
    return str(parse_entity_path(text))


# --------------------------------------------------------------------------- #
# Glob patterns
# --------------------------------------------------------------------------- #


def _glob(
    tokens: Sequence[_T],
    items: Sequence[_U],
    is_star: Callable[[_T], bool],
    match_one: Callable[[_T, _U], bool],
) -> bool:
    """Match *items* against *tokens*, where star tokens match any run of items.

    Every non-star token matches exactly one item (as decided by
    *match_one*).  This is the classic greedy algorithm that only ever
    backtracks to the most recent star, so it runs in
    ``O(len(tokens) * len(items))`` time and constant extra space.
    """
    t = i = 0
    star_t = -1
    star_i = 0
    n_tokens = len(tokens)
    while i < len(items):
        if t < n_tokens and is_star(tokens[t]):
            star_t, star_i = t, i
            t += 1
        elif t < n_tokens and match_one(tokens[t], items[i]):
            t += 1
            i += 1
        elif star_t >= 0:
            star_i += 1
            t, i = star_t + 1, star_i
        else:
            return False
    while t < n_tokens and is_star(tokens[t]):
        t += 1
    return t == n_tokens


def _is_star_char(ch: str) -> bool:
    return ch == "*"


def _same_char(pattern_char: str, ch: str) -> bool:
    return pattern_char == ch


def _wildcard_match(pattern: str, text: str) -> bool:
    """Match *text* against a pattern where ``*`` is the only wildcard."""
    return _glob(pattern, text, _is_star_char, _same_char)


_GLOBSTAR = "**"
_ANY = "*"


@dataclasses.dataclass(frozen=True, slots=True)
class _Token:
    kind: Literal["globstar", "any", "wildcard", "literal"]
    text: str  # canonical text of the token


def _is_globstar(token: _Token) -> bool:
    return token.kind == "globstar"


def _token_matches(token: _Token, part: str) -> bool:
    if token.kind == "literal":
        return token.text == part
    if token.kind == "wildcard":
        return _wildcard_match(token.text, part)
    return True  # "any"; globstars are handled by _glob itself


def _tokenize(text: str) -> tuple[_Token, ...]:
    tokens: list[_Token] = []
    for raw in _scan(text, "entity path pattern"):
        if raw.string is not None:
            token = _Token("literal", _quote(raw.string))
        elif raw.text == _GLOBSTAR:
            if tokens and tokens[-1].kind == "globstar":
                continue  # `**/**` is the same as `**`
            token = _Token("globstar", _GLOBSTAR)
        elif raw.text == _ANY:
            token = _Token("any", _ANY)
        elif "*" in raw.text:
            bad = [ch for ch in raw.text if ch not in _WILDCARD_CHARS]
            if bad:
                _fail(
                    text,
                    "entity path pattern",
                    f"part {raw.number} {raw.text!r} contains {bad[0]!r}; "
                    "wildcard parts may only contain name characters, '#' and '*'",
                )
            token = _Token("wildcard", re.sub(r"\*+", "*", raw.text))
        else:
            token = _Token("literal", str(_classify(text, raw, "entity path pattern")))
        tokens.append(token)
    return tuple(tokens)


class EntityPathPattern:
    """A glob pattern over entity paths.

    Pattern parts are matched one to one against path parts:

    * ``*`` matches exactly one part of any kind;
    * ``**`` matches zero or more parts, so ``world/**`` matches ``world``
      itself and everything below it, and ``**`` matches every path,
      including the root;
    * an unquoted part containing ``*`` (e.g. ``cam*``, ``#1*``) is a
      wildcard matched against the canonical text of a single part, with
      ``*`` matching any run of characters;
    * any other part is parsed like an entity path part and must equal the
      path's part after canonicalization (``#007`` matches ``#7``).  Inside
      quotes ``*`` is literal.

    Matching takes ``O(len(pattern) * len(path))`` steps; no regular
    expressions are involved.

    Parameters
    ----------
    pattern : str or EntityPathPattern
        The pattern text.

    Raises
    ------
    ValueError
        If *pattern* is not a valid pattern.
    TypeError
        If *pattern* is neither a ``str`` nor an :class:`EntityPathPattern`.

    Examples
    --------
    >>> pattern = EntityPathPattern("world/**/cam*/#007")
    >>> str(pattern)
    'world/**/cam*/#7'
    >>> pattern.matches("world/robot/camera/#7")
    True
    >>> pattern.matches("world/camera/#7")
    True
    >>> pattern.matches("world/camera/#8")
    False
    """

    __slots__ = ("_text", "_tokens")

    _tokens: tuple[_Token, ...]
    _text: str

    def __init__(self, pattern: str | EntityPathPattern) -> None:
        if isinstance(pattern, EntityPathPattern):
            tokens = pattern._tokens
        elif isinstance(pattern, str):
            tokens = _tokenize(pattern)
        else:
            raise TypeError(f"entity path pattern must be a str or EntityPathPattern, not {type(pattern).__name__}")
        object.__setattr__(self, "_tokens", tokens)
        object.__setattr__(self, "_text", "/".join(token.text for token in tokens))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __reduce__(self) -> tuple[type[EntityPathPattern], tuple[str]]:
        return (type(self), (self._text,))

    @classmethod
    def parse(cls, text: str | EntityPathPattern) -> EntityPathPattern:
        """Parse a glob pattern.

        Parameters
        ----------
        text : str or EntityPathPattern
            The pattern text; a pattern is returned unchanged.

        Returns
        -------
        EntityPathPattern
            The parsed pattern.

        Raises
        ------
        ValueError
            If *text* is not a valid pattern.

        Examples
        --------
        >>> EntityPathPattern.parse("/world/**/**/*")
        EntityPathPattern('world/**/*')
        """
        if type(text) is cls:
            return text
        return cls(text)

    def matches(self, path: EntityPath | str) -> bool:
        """Whether *path* matches this pattern.

        Parameters
        ----------
        path : EntityPath or str
            The path (parsed if given as text).

        Returns
        -------
        bool
            ``True`` if the path matches.

        Raises
        ------
        ValueError
            If *path* is text that is not a valid entity path.

        Examples
        --------
        >>> EntityPathPattern("world/*").matches("world/camera")
        True
        >>> EntityPathPattern("world/*").matches("world")
        False
        >>> EntityPathPattern("world/**").matches("world")
        True
        """
        key = EntityPath.parse(path)._key
        return _glob(self._tokens, key, _is_globstar, _token_matches)

    def __str__(self) -> str:
        """Return the canonical pattern text.

        Examples
        --------
        >>> str(EntityPathPattern("/a/#01/b**c/**/**"))
        'a/#1/b*c/**'
        """
        return self._text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._text!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EntityPathPattern):
            return NotImplemented
        return self._text == other._text

    def __ne__(self, other: object) -> bool:
        if not isinstance(other, EntityPathPattern):
            return NotImplemented
        return self._text != other._text

    def __hash__(self) -> int:
        return hash(self._text)


@functools.lru_cache(maxsize=256)
def _compile_pattern(text: str) -> EntityPathPattern:
    return EntityPathPattern(text)
