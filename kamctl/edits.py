"""Opportunity edits on the round-trip tree: add one, move one to a new stage (with a decision and
MEDDPICC qualification fields at the gate).

Account files are written by people, so an edit changes only the lines of the opportunity it
touches. ruamel.yaml attaches a comment to the node *before* it: a comment block that closes the
opportunities list (or the file, or introduces the next section) hangs off the last opportunity's
deepest last value. Appending after that node would put the new item below those comments, so
before appending, the trailing comment lines that sit left of the items (indent smaller than the
items' content) are moved to the end of the list; comment lines indented into the last item stay
with it. The writer (yamlio.write.save) then patches only the changed lines into the original
text and writes atomically, refusing when the file changed on disk. Each edit holds write.locked()
from reading the file to writing it, so two edits at once both land, one after the other.

History entries are written in the style the file already uses (flow `- {stage: ..., date: ...}`
or block), looking at this opportunity's history first, then any other; a file without any uses
flow style, one line per step, as `kamctl new` and the sample account do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kamctl.model.account import QUALIFICATION, Account, Opportunity
from kamctl.yamlio import write

OPPORTUNITY_KEYS = tuple(Opportunity.model_fields)  # the key order written, the model's field order


def new_map() -> Any:
    """An empty ruamel mapping, to put into a document (keeps comments and key order around it)."""
    from ruamel.yaml.comments import CommentedMap

    return CommentedMap()


def new_seq() -> Any:
    """An empty ruamel sequence, to put into a document."""
    from ruamel.yaml.comments import CommentedSeq

    return CommentedSeq()


def _token(text: str, column: int) -> Any:
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    return CommentToken(text, CommentMark(column), None)


def is_collection(node: Any) -> bool:
    """A ruamel mapping or sequence (a node that has lines of its own), not a scalar."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    return isinstance(node, (CommentedMap, CommentedSeq))


def _is_block(node: Any) -> bool:
    return is_collection(node) and len(node) > 0 and not node.fa.flow_style()


def _is_block_scalar(node: Any) -> bool:
    from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

    return isinstance(node, (LiteralScalarString, FoldedScalarString))


# --- trailing comments ------------------------------------------------------------------------------
# A slot is a place ruamel keeps comments that follow a node: ("end", coll) is coll.ca.end (a list
# of tokens); ("post", map, key) is map.ca.items[key][2], ("item", seq, i) is seq.ca.items[i][0]
# (one token whose first line is the end-of-line comment of that value).


def _entry_slots(parent: Any, key: Any) -> list[tuple]:
    """Slots after the entry parent[key], outermost first (ruamel emits them deepest first)."""
    from ruamel.yaml.comments import CommentedMap

    value = parent[key]
    if _is_block(value):
        last = list(value.keys())[-1] if isinstance(value, CommentedMap) else len(value) - 1
        return [("end", value), *_entry_slots(value, last)]
    kind = "post" if isinstance(parent, CommentedMap) else "item"
    return [(kind, parent, key)]


def _value(slot: tuple) -> Any:
    return slot[1][slot[2]]


def _get(slot: tuple) -> Any:
    kind, node = slot[0], slot[1]
    if kind == "end":
        return list(getattr(node.ca, "end", None) or [])
    item = node.ca.items.get(slot[2])
    index = 2 if kind == "post" else 0
    return item[index] if item and len(item) > index else None


def _set(slot: tuple, value: Any) -> None:
    kind, node = slot[0], slot[1]
    if kind == "end":
        if value:
            _ensure_comment_list(node)
        node.ca.end = value or []
        return
    index = 2 if kind == "post" else 0
    if value is None and slot[2] not in node.ca.items:
        return
    item = node.ca.items.setdefault(slot[2], [None, None, None, None])
    item[index] = value


def _ensure_comment_list(node: Any) -> None:
    """ruamel emits ca.end only when ca.comment is a list."""
    if node.ca.comment is None:
        node.ca.comment = [None, None]


def _lines(text: str, first_indent: int | None) -> list[tuple[int, str]]:
    """Comment text -> (indent, text) per full line; the first line sits at first_indent (None: as written)."""
    out = []
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    for i, part in enumerate(parts):
        if not part.strip():
            out.append((0, ""))
        elif i == 0 and first_indent is not None:
            out.append((first_indent, part.strip()))
        else:
            out.append((len(part) - len(part.lstrip(" ")), part.strip()))
    return out


def _take_tail(parent: Any, key: Any, threshold: int) -> list[tuple[int, str]]:
    """Remove and return the trailing comment lines after parent[key] indented less than threshold.

    Only the final run of such lines (and blank lines) moves; the end-of-line comment and lines
    indented into the entry stay where they are.
    """
    slots = _entry_slots(parent, key)
    deepest = slots[-1]
    if getattr(getattr(_value(deepest), "anchor", None), "value", None) is not None:
        return []  # an anchored value shares its comments with its aliases: leave them where they are
    eol: tuple[str, int] | None = None
    lines: list[tuple[int, str]] = []
    for slot in reversed(slots):  # emission order
        value = _get(slot)
        if not value:
            continue
        if slot[0] == "end":
            for tok in value:
                lines.extend(_lines(tok.value, tok.column))
            continue
        text = value.value
        if slot is deepest and not _is_block_scalar(_value(deepest)) and not text.startswith("\n"):
            first, _, rest = text.partition("\n")
            eol = (first, value.column)
            lines.extend(_lines(rest, None))
        elif text.startswith("\n") and not (slot is deepest and _is_block_scalar(_value(deepest))):
            lines.extend(_lines(text[1:], None))  # "\n" ends the value's line; after a block scalar it is a blank line
        else:
            lines.extend(_lines(text, value.column))
    k = len(lines)
    while k > 0 and (not lines[k - 1][1] or lines[k - 1][0] < threshold):
        k -= 1
    kept, moved = lines[:k], lines[k:]
    if not moved:
        return []
    for slot in slots:
        _set(slot, [] if slot[0] == "end" else None)
    _put_after(parent, key, kept, eol)
    return moved


def _put_after(parent: Any, key: Any, kept: list[tuple[int, str]], eol: tuple[str, int] | None) -> None:
    """Put the end-of-line comment and kept lines back after parent[key]."""
    if eol is None and not kept:
        return
    deepest = _entry_slots(parent, key)[-1]
    body = "".join(f"{' ' * ind}{txt}\n" for ind, txt in kept)
    if eol is not None:
        _set(deepest, _token(f"{eol[0]}\n{body}", eol[1]))
    elif _is_block_scalar(_value(deepest)):
        _set(deepest, _token(body.lstrip(" "), kept[0][0]))
    else:
        _set(deepest, _token(f"\n{body}", 0))


def _end_tokens(lines: list[tuple[int, str]]) -> list[Any]:
    return [_token(f"{txt}\n", ind) if txt else _token("\n", 0) for ind, txt in lines]


def _blank_before(rt: write.RoundTrip, line: int) -> bool:
    """Whether the original text has a blank line just before 0-based line `line`."""
    lines = rt.text.split("\n")
    return 0 < line <= len(lines) and not lines[line - 1].strip()


def append_item(rt: write.RoundTrip, parent: Any, key: str, item: Any) -> None:
    """Append item to the sequence parent[key], keeping closing comments after it."""
    seq = parent[key]
    if not _is_block(seq):  # `key: []`, `key: [a, b]` or a new list: make it a block list
        eol_tok = parent.ca.items.get(key, [None, None, None])[2] if key in parent.ca.items else None
        moved: list[tuple[int, str]] = []
        eol = None
        if eol_tok is not None:
            first, _, rest = eol_tok.value.partition("\n")
            if eol_tok.value.startswith("\n"):
                first, rest = "", eol_tok.value[1:]
            eol = (first, eol_tok.column) if first.strip() else None
            moved = _lines(rest, None)
            parent.ca.items[key][2] = _token(f"{eol[0]}\n", eol[1]) if eol else None
        seq.ca.comment = [None, None] if seq.ca.comment is None else [None, seq.ca.comment[1]]
        seq.fa.set_block_style()
        seq.append(item)
        if moved:
            _ensure_comment_list(seq)
            seq.ca.end = _end_tokens(moved) + list(getattr(seq.ca, "end", None) or [])
        return
    last = len(seq) - 1
    place = (seq.lc.data or {}).get(last)
    if place is None:  # an item this edit added: nothing of the person's after it
        seq.append(item)
        return
    line, column = place[0], place[1]
    moved = _take_tail(seq, last, column)
    if _blank_before(rt, line) and last > 0 and is_collection(item):  # the file separates items by a blank line
        item.ca.comment = [None, [_token("\n", 0)]]
    seq.append(item)
    if moved:
        _ensure_comment_list(seq)
        seq.ca.end = _end_tokens(moved) + list(getattr(seq.ca, "end", None) or [])


def _key_column(mapping: Any) -> int:
    """The column of the mapping's keys as read from the file (0 for a mapping kamctl made)."""
    columns = [pos[1] for pos in (getattr(getattr(mapping, "lc", None), "data", None) or {}).values()]
    return min(columns) if columns else 0


def set_key(mapping: Any, key: str, value: Any, order: tuple[str, ...]) -> None:
    """Set mapping[key]; a new key goes after the nearest key before it in `order`."""
    if key in mapping:
        mapping[key] = value
        return
    position = 0
    keys = list(mapping.keys())
    before = order[:order.index(key)] if key in order else order
    for i, existing in enumerate(keys):
        if existing in before:
            position = i + 1
    if position == 0:
        mapping.insert(position, key, value)
        return
    prev = keys[position - 1]
    # comment lines at or left of the keys' column introduce the next key or close the mapping
    moved = _take_tail(mapping, prev, _key_column(mapping) + 1)
    mapping.insert(position, key, value)
    if moved:
        if is_collection(value) and not value.fa.flow_style():
            _ensure_comment_list(value)
            value.ca.end = _end_tokens(moved) + list(getattr(value.ca, "end", None) or [])
        else:
            _set(("post", mapping, key), _token("\n" + "".join(f"{' ' * i}{t}\n" for i, t in moved), 0))


# --- opportunities ----------------------------------------------------------------------------------


def find(data: Any, opp_id: str) -> Any:
    for opp in data.get("opportunities") or []:
        if hasattr(opp, "get") and opp.get("id") == opp_id:
            return opp
    return None


def history_is_flow(data: Any, opp: Any | None = None, others: bool | None = None) -> bool:
    """Flow when this opportunity's history (else the first one with entries) is flow, or none exists.

    others: the answer for the rest of the file when only part of it is open (see _outline).
    """
    candidates = ([opp] if opp is not None else []) + (list(data.get("opportunities") or []) if others is None else [])
    for candidate in candidates:
        history = candidate.get("history") if hasattr(candidate, "get") else None
        if history and is_collection(history[0]):
            return bool(history[0].fa.flow_style())
    return True if others is None else others


# --- opening only the opportunities an edit needs ----------------------------------------------------
# ruamel's round trip costs about 20 µs a byte, so a 1 MB file would take most of a minute. libyaml
# (PyYAML's C parser) finds where each opportunity is in a fraction of that; the edit then opens
# only the opportunity it changes (or the last two, for an add) through write.open_roundtrip's window.


@dataclass
class _Outline:
    starts: list[int]  # offset of each opportunity's first line (its `-`)
    end: int  # offset after the list, its closing comment lines included
    ids: list[Any]
    flow: bool  # what history_is_flow says for the file without a given opportunity


def _outline(text: str) -> _Outline | None:
    """Where the opportunities are, or None when the file is not a plain block list of them."""
    import yaml

    if not getattr(yaml, "__with_libyaml__", False) or any(c in text for c in "\r\x85\u2028\u2029"):
        return None  # no fast parser, or line breaks libyaml counts differently from "\n"
    root = yaml.compose(text, Loader=yaml.CSafeLoader)
    if not isinstance(root, yaml.MappingNode):
        return None
    keys = [k for k, _ in root.value]
    found = [i for i, k in enumerate(keys) if isinstance(k, yaml.ScalarNode) and k.value == "opportunities"]
    if len(found) != 1 or keys[found[0]].style not in (None, "") or keys[found[0]].start_mark.column != 0:
        return None
    seq = root.value[found[0]][1]
    if not isinstance(seq, yaml.SequenceNode) or not seq.value or seq.flow_style:
        return None
    offsets = [0, *(m.end() for m in re.finditer("\n", text))]
    starts = [offsets[item.start_mark.line] for item in seq.value]
    if any(not text[at:at + 80].lstrip(" ").startswith("-") for at in starts):
        return None  # `-` alone on its line, or a compact nested list: let ruamel read it all
    end = offsets[keys[found[0] + 1].start_mark.line] if found[0] + 1 < len(keys) else len(text)
    ids, flow = [], None
    for item in seq.value:
        fields = {k.value: v for k, v in item.value} if isinstance(item, yaml.MappingNode) else {}
        ids.append(getattr(fields.get("id"), "value", None))
        history = fields.get("history")
        if flow is None and isinstance(history, yaml.SequenceNode) and history.value \
                and isinstance(history.value[0], yaml.CollectionNode):
            flow = bool(history.value[0].flow_style)
    return _Outline(starts, end, ids, True if flow is None else flow)


def _open(file: str | Path, pick: Any, root: Any = None) -> tuple[write.RoundTrip, _Outline | None]:
    """open_roundtrip on the opportunities pick(outline) -> (first, last) index, when that works."""
    seen: list[_Outline] = []

    def window(text: str) -> tuple[str, int, int] | None:
        try:
            outline = _outline(text)
        except Exception:  # noqa: BLE001 - libyaml refuses what ruamel may still read: open it all
            return None
        span = pick(outline) if outline is not None else None
        if span is None:
            return None
        seen.append(outline)
        first, last = span
        end = outline.starts[last + 1] if last + 1 < len(outline.starts) else outline.end
        return "opportunities", outline.starts[first], end

    rt = write.open_roundtrip(file, window, root)
    return rt, (seen[0] if seen and rt.header else None)


def entry_map(entry: dict[str, Any], flow: bool) -> Any:
    """entry as a ruamel mapping in its own key order; flow: written `{a: 1, b: 2}` on one line."""
    node = new_map()
    for k, v in entry.items():
        node[k] = v
    if flow:
        node.fa.set_flow_style()
    return node


def whole_number(value: float | None) -> Any:
    """A money amount as people write it: 250000, not 250000.0."""
    if value is not None and float(value).is_integer():
        return int(value)
    return value


def apply_change(file: str | Path, opp_id: str, change: Any, root: Any = None) -> bool:
    """Write a planned change (kamctl.pipeline.Change) to opportunity opp_id of the file (root: the
    workspace it is read and written from, through fsafe; None: the file's folder)."""
    with write.locked(file):
        return _apply_change(file, opp_id, change, root)


def _apply_change(file: str | Path, opp_id: str, change: Any, root: Any) -> bool:
    def pick(outline: _Outline) -> tuple[int, int] | None:
        return (outline.ids.index(opp_id),) * 2 if opp_id in outline.ids else None

    rt, outline = _open(file, pick, root)
    opp = find(rt.data, opp_id)
    if opp is None:
        raise write.EditError(f"{file}: no opportunity '{opp_id}' in the round-trip view of the file")
    record_change(rt, opp, change, history_is_flow(rt.data, opp, outline.flow if outline else None))
    return save(rt)


def record_change(rt: write.RoundTrip, opp: Any, change: Any, flow: bool) -> None:
    """Put a planned change into an opportunity of an open file: its stage, decision and history entry."""
    set_key(opp, "stage", change.stage.value, OPPORTUNITY_KEYS)
    if change.decision is not None:
        set_key(opp, "decision", entry_map(change.decision, False), OPPORTUNITY_KEYS)
    if change.qualification:
        if opp.get("qualification") is None:  # a new block, in MEDDPICC order
            set_key(opp, "qualification", entry_map(change.qualification, False), OPPORTUNITY_KEYS)
        else:
            for key, value in change.qualification.items():
                set_key(opp["qualification"], key, value, QUALIFICATION)
    if opp.get("history") is None:
        set_key(opp, "history", new_seq(), OPPORTUNITY_KEYS)
    append_item(rt, opp, "history", entry_map(change.entry, flow))


def add_opportunity(file: str | Path, fields: dict[str, Any], entry: dict[str, Any], root: Any = None) -> bool:
    """Append a new opportunity (fields in file order, history started with entry) after the last one."""
    with write.locked(file):
        return _add_opportunity(file, fields, entry, root)


def _add_opportunity(file: str | Path, fields: dict[str, Any], entry: dict[str, Any], root: Any) -> bool:
    rt, outline = _open(file, lambda o: (max(0, len(o.starts) - 2), len(o.starts) - 1), root)
    if fields.get("id") is not None and fields["id"] in (outline.ids if outline else [find(rt.data, fields["id"])
                                                                                       and fields["id"]]):
        raise write.EditError(f"{file} already has an opportunity '{fields['id']}' (added since it was read)")
    flow = history_is_flow(rt.data, None, outline.flow if outline else None)
    record = {key: fields[key] for key in OPPORTUNITY_KEYS if fields.get(key) is not None}
    append_record(rt, rt.data, "opportunities", {**record, "history": [entry]}, flow)
    return save(rt)


def append_record(rt: write.RoundTrip, parent: Any, key: str, fields: dict[str, Any], flow: bool = True) -> None:
    """Append fields (in their order) as a block mapping to the list parent[key], made when missing;
    a list of dicts among them (a history) is written one flow mapping a line when flow."""
    item = new_map()
    for name, value in fields.items():
        if isinstance(value, list):
            entries = new_seq()
            for entry in value:
                entries.append(entry_map(entry, flow))
            value = entries
        item[name] = whole_number(value) if name == "value" else value
    if parent.get(key) is None:
        set_key(parent, key, new_seq(), tuple(Account.model_fields))
    append_item(rt, parent, key, item)


def set_field(mapping: Any, key: str, value: Any, order: tuple[str, ...]) -> None:
    """set_key for a value (an amount written 120000, not 120000.0); a dict becomes a new block mapping."""
    if isinstance(value, dict):
        value = entry_map(value, False)
    elif isinstance(value, float):
        value = whole_number(value)
    set_key(mapping, key, value, order)


def save(rt: write.RoundTrip) -> bool:
    """Save; on a conflict, keep our version next to the file and say where."""
    try:
        return write.save(rt)
    except write.ConflictError as exc:
        side = rt.file.with_name(rt.file.name + ".kamctl-new")
        try:
            write.atomic_write(side, write.render(rt), rt.root)
        except OSError:
            raise exc from None
        raise write.ConflictError(f"{exc} The file on disk keeps the other change; this edit is saved in "
                                  f"{side}: re-run the command (or copy the edit over), then delete it.") from None
