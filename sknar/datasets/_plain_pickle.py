"""A reader of pickles that hold plain data, within fixed bounds on what it builds.

:mod:`pickle` runs whatever code a file names, and it trusts the file's sizes: a 9-byte file
can ask for a memo of billions of slots, a few hundred bytes of shared references describe a
list with billions of leaves. This reader interprets the binary pickle opcodes itself and
builds only dicts, lists, tuples, strings, bytes, numbers, None and booleans, plus the results
of the few calls the caller allows. It bounds everything it builds:

- the file size and the number of opcodes, hence the number of objects;
- the length of a string or bytes object, and the nesting depth of containers;
- memo indices; a container is never fetched from the memo twice, so the result is a tree whose
  size follows from the file's size (no shared sub-lists, no cycles);
- error messages, which name the byte offset and opcode, never the data.
"""

import pickletools
import struct
from typing import NamedTuple

__all__ = ["PickleLimits", "PickleRefused", "load_plain_pickle"]


class PickleLimits(NamedTuple):
    """Upper bounds on what :func:`load_plain_pickle` reads and builds."""

    max_bytes: int = 16 * 2**20
    max_opcodes: int = 4_000_000
    max_length: int = 4096  # characters of a string, bytes of a bytes object
    max_depth: int = 16
    max_memo_index: int = 4_000_000


class PickleRefused(ValueError):
    """The data is not a pickle of plain data within the limits (the message says why)."""


_MISSING = object()
_CONTAINER_TYPES = frozenset([dict, list, tuple])
_LONG1_MAX_BYTES = 64


def _clip(text, limit=120):
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _opcode_name(code):
    op = pickletools.code2op.get(chr(code))
    return op.name if op is not None else f"0x{code:02x}"


def load_plain_pickle(data, calls, set_state=None, *, limits=None):
    """Build the plain data a binary pickle (protocol 2 to 5) describes.

    Parameters
    ----------
    data : bytes
        The whole pickle.
    calls : dict
        ``(module, name) -> function``: the only globals the pickle may name. A ``REDUCE`` on
        one of them calls the function with the pickled arguments; it must return an atom
        (not a container) and raise ``ValueError`` or ``TypeError`` to refuse them.
    set_state : callable, default=None
        ``set_state(obj, state)`` applies a ``BUILD`` opcode to an object made by one of the
        ``calls``; it raises ``ValueError`` to refuse. None refuses every ``BUILD``.
    limits : PickleLimits, default=None
        The bounds; None means ``PickleLimits()``.

    Returns
    -------
    obj : object
        The unpickled tree.

    Raises
    ------
    PickleRefused
        For anything outside plain data or the limits, or a malformed or truncated pickle.
    """
    limits = PickleLimits() if limits is None else limits
    if len(data) > limits.max_bytes:
        raise PickleRefused(
            f"the data holds {len(data):,} bytes, more than the {limits.max_bytes:,} allowed"
        )
    if len(data) < 2 or data[0] != 0x80 or not 2 <= data[1] <= 5:
        raise PickleRefused(
            f"it does not start with a binary pickle header (protocol 2 to 5); its first "
            f"bytes are {bytes(data[:8])!r}"
        )
    return _Machine(data, calls, set_state, limits).run()


# opcodes, as byte values
_MARK, _STOP, _POP_MARK = ord("("), ord("."), ord("1")
_EMPTY_DICT, _EMPTY_LIST, _EMPTY_TUPLE = ord("}"), ord("]"), ord(")")
_TUPLE, _TUPLE1, _TUPLE2, _TUPLE3 = ord("t"), 0x85, 0x86, 0x87
_APPEND, _APPENDS, _SETITEM, _SETITEMS = ord("a"), ord("e"), ord("s"), ord("u")
_BINPUT, _LONG_BINPUT, _MEMOIZE = ord("q"), ord("r"), 0x94
_BINGET, _LONG_BINGET = ord("h"), ord("j")
_BININT, _BININT1, _BININT2, _LONG1, _BINFLOAT = ord("J"), ord("K"), ord("M"), 0x8A, ord("G")
_NONE, _NEWTRUE, _NEWFALSE = ord("N"), 0x88, 0x89
_BINUNICODE, _SHORT_BINUNICODE, _BINBYTES, _SHORT_BINBYTES = ord("X"), 0x8C, ord("B"), ord("C")
_GLOBAL, _STACK_GLOBAL, _REDUCE, _BUILD, _FRAME = ord("c"), 0x93, ord("R"), ord("b"), 0x95
_TUPLE_SIZES = {_TUPLE1: 1, _TUPLE2: 2, _TUPLE3: 3}

_U32 = struct.Struct("<I").unpack_from
_I32 = struct.Struct("<i").unpack_from
_U16 = struct.Struct("<H").unpack_from
_U64 = struct.Struct("<Q").unpack_from
_F64 = struct.Struct(">d").unpack_from


class _Bad(Exception):
    """A refusal raised inside the loop, located by the loop (which knows the offset)."""


class _Machine:
    """One run of the pickle stack machine over ``data``."""

    def __init__(self, data, calls, set_state, limits):
        self.data = bytes(data)
        self.call_names = {id(function): f"{m}.{n}" for (m, n), function in calls.items()}
        self.calls = calls
        self.set_state = set_state
        self.limits = limits
        self.stack, self.marks, self.memo = [], [], {}
        # depth of the containers deeper than 1, kept alive so that their ids stay theirs
        self.depth, self.keep = {}, []

    def run(self):
        try:
            return self._run()
        except _Bad as exc:
            message, start = exc.args
        except IndexError as exc:
            message, start = "finds too few items on the stack (a malformed pickle)", exc.args[0]
        data = self.data
        name = _opcode_name(data[start]) if start < len(data) else "end of data"
        raise PickleRefused(f"byte {start} ({name}): {message}")

    # --- what the less frequent opcodes do (they raise _Bad with a message) ------------

    def pop_mark(self):
        if not self.marks:
            raise _Bad("no MARK before it (a malformed pickle)")
        mark = self.marks.pop()
        items = self.stack[mark:]
        del self.stack[mark:]
        return items

    def nest(self, parent, children):
        """Record that ``children`` now sit in ``parent``; refuse a tree that is too deep."""
        if _CONTAINER_TYPES.isdisjoint(map(type, children)):
            return
        depth = self.depth
        deepest = max(depth.get(id(c), 1) for c in children if type(c) in _CONTAINER_TYPES)
        if deepest + 1 > depth.get(id(parent), 1):
            if deepest + 1 > self.limits.max_depth:
                raise _Bad(f"containers nested deeper than {self.limits.max_depth} levels")
            depth[id(parent)] = deepest + 1
            self.keep.append(parent)

    def target(self, kind):
        if not self.stack or type(self.stack[-1]) is not kind:
            raise _Bad(f"expects a {kind.__name__} to fill (a malformed pickle)")
        return self.stack[-1]

    def refuse_items(self, mark, items):
        """Say what is wrong with a SETITEMS (``mark`` -1: no MARK) that failed."""
        if mark < 0:
            raise _Bad("no MARK before it (a malformed pickle)")
        if mark == 0 or type(self.stack[mark - 1]) is not dict:
            raise _Bad("expects a dict to fill (a malformed pickle)")
        if len(items) % 2:
            raise _Bad("an odd number of keys and values")
        for key in items[::2]:
            if not _hashable(key):
                raise _Bad(f"a {type(key).__name__} cannot be a dict key")
        raise _Bad("cannot fill the dict (a malformed pickle)")

    def set_item(self):
        value, key = self.stack.pop(), self.stack.pop()
        target = self.target(dict)
        if not _hashable(key):
            raise _Bad(f"a {type(key).__name__} cannot be a dict key")
        if key in target:
            raise _Bad("a dict key appears twice")
        target[key] = value
        self.nest(target, (key, value))

    def make_tuple(self, items):
        items = tuple(items)
        self.nest(items, items)
        self.stack.append(items)

    def fetch(self, index):
        value = self.memo.get(index, _MISSING)
        if value is _MISSING:
            raise _Bad(f"memo entry {index} was never stored")
        kind = type(value)
        if kind is dict or kind is list or (kind is tuple and value):
            raise _Bad(
                f"memo entry {index} (a {kind.__name__}) is fetched again: shared containers "
                "are refused"
            )
        self.stack.append(value)

    def store(self, index):
        if index > self.limits.max_memo_index:
            raise _Bad(
                f"memo index {index:,} is beyond the {self.limits.max_memo_index:,} allowed"
            )
        if not self.stack:
            raise _Bad("nothing on the stack to store (a malformed pickle)")
        self.memo[index] = self.stack[-1]

    def find_global(self, module, name):
        function = self.calls.get((module, name))
        if function is None:
            raise _Bad(
                f"refusing to load {_clip(module, 60)}.{_clip(name, 60)}: only plain "
                "containers and numbers are allowed"
            )
        self.stack.append(function)

    def reduce(self):
        args = self.stack.pop()
        function = self.stack.pop()
        # only GLOBAL puts functions on the stack, and only the allowed ones
        name = self.call_names.get(id(function))
        if name is None:
            raise _Bad("calls something that is not an allowed global")
        if type(args) is not tuple:
            raise _Bad(f"{name} gets {type(args).__name__} arguments, not a tuple")
        try:
            result = function(*args)
        except (TypeError, ValueError) as exc:
            raise _Bad(f"{name} refused its arguments: {_clip(exc)}") from None
        self.stack.append(result)

    def build(self):
        state = self.stack.pop()
        if self.set_state is None or not self.stack:
            raise _Bad("sets the state of an object, which is refused")
        try:
            self.set_state(self.stack[-1], state)
        except (TypeError, ValueError) as exc:
            raise _Bad(f"refused state: {_clip(exc)}") from None

    def sized(self, pos, width, kind):
        """The string or bytes whose length (``width`` bytes) is at ``pos``; the new pos."""
        data = self.data
        if pos + width > len(data):
            raise _Bad(_TRUNCATED)
        length = data[pos] if width == 1 else _U32(data, pos)[0]
        if length > self.limits.max_length:
            raise _Bad(
                f"a {kind} of {length:,} bytes is longer than the {self.limits.max_length:,} "
                "allowed"
            )
        end = pos + width + length
        if end > len(data):
            raise _Bad(_TRUNCATED)
        raw = data[pos + width : end]
        if kind == "string":
            try:
                raw = raw.decode("utf-8", "surrogatepass")
            except UnicodeDecodeError:
                raise _Bad("a string that is not UTF-8") from None
        self.stack.append(raw)
        return end

    def long1(self, pos):
        data = self.data
        if pos >= len(data) or pos + 1 + data[pos] > len(data):
            raise _Bad(_TRUNCATED)
        length = data[pos]
        if length > _LONG1_MAX_BYTES:
            raise _Bad(f"an integer of {length} bytes")
        self.stack.append(int.from_bytes(data[pos + 1 : pos + 1 + length], "little", signed=True))
        return pos + 1 + length

    def line(self, pos):
        end = self.data.find(b"\n", pos, pos + 256)
        if end < 0:
            raise _Bad("a GLOBAL name without its line end")
        return self.data[pos:end].decode("utf-8", "replace"), end + 1

    def frame(self, pos):
        data = self.data
        if pos + 8 > len(data) or _U64(data, pos)[0] > len(data) - pos - 8:
            raise _Bad(_TRUNCATED)
        return pos + 8

    def stop(self, pos):
        if len(self.stack) != 1 or self.marks:
            raise _Bad("the stack does not hold exactly one object (a malformed pickle)")
        if pos != len(self.data):
            raise _Bad(f"{len(self.data) - pos:,} bytes follow the end of the pickle")
        return self.stack.pop()

    # --- the loop --------------------------------------------------------------------

    def _run(self):  # noqa: C901 - one flat branch per opcode keeps the hot loop fast
        data, stack, marks, memo = self.data, self.stack, self.marks, self.memo
        append = stack.append
        size = len(data)
        max_memo_index, max_length = self.limits.max_memo_index, self.limits.max_length
        call_names = self.call_names
        budget = self.limits.max_opcodes
        pos = start = 2
        try:
            while True:
                start = pos
                code = data[pos]  # past the end: IndexError, reported as a truncation
                pos += 1
                budget -= 1
                if budget < 0:
                    raise _Bad(f"more than {self.limits.max_opcodes:,} opcodes")
                # the frequent opcodes of a pickled dict of records first, inlined
                if code == _BINGET:
                    if pos >= size:
                        raise _Bad(_TRUNCATED)
                    value = memo.get(data[pos], _MISSING)
                    if value is _MISSING or type(value) in _CONTAINER_TYPES:
                        self.fetch(data[pos])
                    else:
                        append(value)
                    pos += 1
                elif code == _LONG_BINPUT:
                    if pos + 4 > size:
                        raise _Bad(_TRUNCATED)
                    index = _U32(data, pos)[0]
                    if index > max_memo_index or not stack:
                        self.store(index)
                    memo[index] = stack[-1]
                    pos += 4
                elif code == _BINFLOAT:
                    if pos + 8 > size:
                        raise _Bad(_TRUNCATED)
                    append(_F64(data, pos)[0])
                    pos += 8
                elif code == _MARK:
                    marks.append(len(stack))
                elif code == _SETITEMS:
                    mark = marks.pop() if marks else -1
                    target = stack[mark - 1] if mark > 0 else None
                    items = stack[mark:]
                    count = len(items) // 2
                    if type(target) is not dict or len(items) % 2:
                        self.refuse_items(mark, items)
                    before = len(target)
                    try:
                        target.update(zip(items[::2], items[1::2]))
                    except TypeError:
                        self.refuse_items(mark, items)
                    if len(target) != before + count:
                        raise _Bad("a dict key appears twice")
                    if not _CONTAINER_TYPES.isdisjoint(map(type, items)):
                        self.nest(target, items)
                    del stack[mark:]
                elif code == _EMPTY_DICT:
                    append({})
                elif code == _REDUCE:
                    function, args = stack[-2], stack[-1]
                    if id(function) not in call_names or type(args) is not tuple:
                        self.reduce()
                    else:
                        try:
                            stack[-2:] = [function(*args)]
                        except (TypeError, ValueError):
                            self.reduce()
                elif code == _SHORT_BINBYTES:
                    if pos >= size or pos + 1 + data[pos] > size or data[pos] > max_length:
                        pos = self.sized(pos, 1, "bytes object")  # names the problem
                    else:
                        end = pos + 1 + data[pos]
                        append(data[pos + 1 : end])
                        pos = end
                elif code == _TUPLE2:
                    items = (stack[-2], stack[-1])
                    del stack[-2:]
                    if _CONTAINER_TYPES.isdisjoint(map(type, items)):
                        append(items)
                    else:
                        self.make_tuple(items)
                elif code == _BININT2:
                    if pos + 2 > size:
                        raise _Bad(_TRUNCATED)
                    append(_U16(data, pos)[0])
                    pos += 2
                elif code == _BININT:
                    if pos + 4 > size:
                        raise _Bad(_TRUNCATED)
                    append(_I32(data, pos)[0])
                    pos += 4
                elif code == _BININT1:
                    if pos >= size:
                        raise _Bad(_TRUNCATED)
                    append(data[pos])
                    pos += 1
                else:
                    pos = self.rare(code, pos)
                    if pos is None:
                        return self.stop(start + 1)
        except IndexError:
            if start >= size:
                message = "the data ends before the STOP opcode (a truncated file?)"
                raise _Bad(message, start) from None
            raise IndexError(start) from None
        except _Bad as exc:
            raise _Bad(exc.args[0], start) from None

    def rare(self, code, pos):  # noqa: C901 - a flat table of the remaining opcodes
        """Run one of the less frequent opcodes; return the new pos, or None at STOP."""
        stack = self.stack
        if code == _BINPUT:
            if pos >= len(self.data):
                raise _Bad(_TRUNCATED)
            self.store(self.data[pos])
            pos += 1
        elif code == _MEMOIZE:
            self.store(len(self.memo))
        elif code == _LONG_BINGET:
            if pos + 4 > len(self.data):
                raise _Bad(_TRUNCATED)
            self.fetch(_U32(self.data, pos)[0])
            pos += 4
        elif code == _SHORT_BINUNICODE:
            pos = self.sized(pos, 1, "string")
        elif code == _BINUNICODE:
            pos = self.sized(pos, 4, "string")
        elif code == _BINBYTES:
            pos = self.sized(pos, 4, "bytes object")
        elif code in _TUPLE_SIZES:
            count = _TUPLE_SIZES[code]
            if len(stack) < count:
                raise IndexError
            items = stack[len(stack) - count :]
            del stack[len(stack) - count :]
            self.make_tuple(items)
        elif code == _EMPTY_LIST:
            stack.append([])
        elif code == _EMPTY_TUPLE:
            stack.append(())
        elif code == _TUPLE:
            self.make_tuple(self.pop_mark())
        elif code == _APPEND:
            value = stack.pop()
            target = self.target(list)
            target.append(value)
            self.nest(target, (value,))
        elif code == _APPENDS:
            items = self.pop_mark()
            target = self.target(list)
            target.extend(items)
            self.nest(target, items)
        elif code == _SETITEM:
            self.set_item()
        elif code == _LONG1:
            pos = self.long1(pos)
        elif code in _CONSTANTS:
            stack.append(_CONSTANTS[code])
        elif code == _GLOBAL:
            module, pos = self.line(pos)
            name, pos = self.line(pos)
            self.find_global(module, name)
        elif code == _STACK_GLOBAL:
            name, module = stack.pop(), stack.pop()
            if type(module) is not str or type(name) is not str:
                raise _Bad("a global named by something other than strings")
            self.find_global(module, name)
        elif code == _BUILD:
            self.build()
        elif code == _POP_MARK:
            self.pop_mark()
        elif code == _FRAME:
            pos = self.frame(pos)
        elif code == _STOP:
            return None
        else:
            raise _Bad("an opcode that plain data does not need")
        return pos


_TRUNCATED = "its argument runs past the end of the data (a truncated file?)"
_CONSTANTS = {_NONE: None, _NEWTRUE: True, _NEWFALSE: False}


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        return False
    return True
