"""Turn ``benchmarks/RESULTS.md`` into reStructuredText for the benchmark report page.

The report is written by the benchmark suite in a small, regular subset of Markdown (headings,
paragraphs, lists, pipe tables, images, fenced code). This module converts that subset so the
page needs no Markdown parser, and writes a short note instead when the suite has not been run.
"""

import re
import shutil
from pathlib import Path

HEADING_CHARS = "-~^\"'"
CODE_LANGUAGES = {"python", "bash", "console", "json", "text", "shell"}
MISSING_NOTE = """\
.. note::

   No benchmark results are in this checkout yet. Run the suite to produce them::

       python -m benchmarks.run --suite all

   It writes ``benchmarks/RESULTS.md``, which this page then shows.
"""

_INLINE = re.compile(
    r"(?P<code>`+)(?P<code_text>.+?)(?P=code)"
    r"|\*\*(?P<bold>.+?)\*\*"
    r"|\[(?P<link_text>[^\]]+)\]\((?P<link_url>[^)\s]+)\)"
    r"|(?<![\w*])\*(?P<em>[^\s*](?:.*?[^\s*])?)\*(?![\w*])"
)
_IMAGE = re.compile(r"^!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)\)\s*$")
_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<title>.+?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^(?P<indent>\s*)(?P<marker>[-*+]|\d+[.)])\s+(?P<text>.*)$")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def _escape(text):
    return re.sub(r"([\\`*_|<>\[\]])", r"\\\1", text)


def convert_inline(text):
    """Convert Markdown inline markup of one line to reStructuredText."""
    pieces, position = [], 0
    for match in _INLINE.finditer(text):
        pieces.append(("plain", text[position : match.start()]))
        if match.group("code"):
            code = match.group("code_text").strip()
            pieces.append(("markup", f"``{code}``" if code else ""))
        elif match.group("bold") is not None:
            pieces.append(("markup", f"**{_escape(match.group('bold'))}**"))
        elif match.group("link_text") is not None:
            label = match.group("link_text").replace("`", "").replace("<", "")
            pieces.append(("markup", f"`{label} <{match.group('link_url')}>`__"))
        else:
            pieces.append(("markup", f"*{_escape(match.group('em'))}*"))
        position = match.end()
    pieces.append(("plain", text[position:]))
    out = ""
    for index, (kind, chunk) in enumerate(pieces):
        if kind == "plain":
            out += _escape(chunk)
            continue
        if not chunk:
            continue
        # Inline markup must touch whitespace in reST; an escaped space joins it to its
        # neighbours without showing in the output.
        if out and not out[-1].isspace():
            out += "\\ "
        out += chunk
        following = pieces[index + 1][1] if index + 1 < len(pieces) else ""
        if following and not following[0].isspace():
            out += "\\ "
    return out


def _table_cells(line):
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line)]


def _convert_table(rows):
    header, body = rows[0], [row for row in rows[2:]]
    width = len(header)
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *body]:
        row = (row + [""] * width)[:width]
        for column, cell in enumerate(row):
            bullet = "   * -" if column == 0 else "     -"
            content = convert_inline(cell)
            lines.append(f"{bullet} {content}" if content else bullet)
    return lines + [""]


def _convert_image(match, source_dir, image_dir, image_prefix):
    source = (source_dir / match.group("src")).resolve()
    if not source.is_file():
        return [f"*(figure {_escape(match.group('src'))} is missing)*", ""]
    image_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, image_dir / source.name)
    alt = match.group("alt").replace("\n", " ") or source.stem
    return [f".. image:: {image_prefix}/{source.name}", f"   :alt: {alt}", ""]


def _heading_levels(lines):
    levels = sorted(
        {len(m.group("hashes")) for m in map(_HEADING.match, lines) if m is not None}
    )
    return {level: HEADING_CHARS[min(i, len(HEADING_CHARS) - 1)] for i, level in enumerate(levels)}


def markdown_to_rst(markdown, source_dir, image_dir, image_prefix):
    """Convert the Markdown subset of the benchmark report to reStructuredText.

    Parameters
    ----------
    markdown : str
        The Markdown text.
    source_dir : pathlib.Path
        Folder that image paths in the Markdown are relative to.
    image_dir : pathlib.Path
        Folder the images are copied to.
    image_prefix : str
        How the reST document refers to ``image_dir``.

    Returns
    -------
    rst : str
    """
    markdown = re.sub(r"<!--.*?-->", "", markdown, flags=re.S)
    lines = markdown.splitlines()
    underline = _heading_levels(lines)
    out, index, lists = [], 0, _ListState()
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if _ends_lists(stripped):
            lists.close()
        if stripped.startswith("```"):
            language = stripped[3:].strip().lower() or "text"
            language = language if language in CODE_LANGUAGES else "text"
            block, index = [], index + 1
            while index < len(lines) and not lines[index].strip().startswith("```"):
                block.append(lines[index])
                index += 1
            out += [f".. code-block:: {language}", ""]
            out += [f"   {code}" if code.strip() else "" for code in block] + [""]
            index += 1
            continue
        heading = _HEADING.match(line)
        if heading:
            title = convert_inline(heading.group("title"))
            out += ["", title, underline[len(heading.group("hashes"))] * (len(title) + 2), ""]
            index += 1
            continue
        if stripped.startswith("|") and index + 1 < len(lines) and _TABLE_RULE.match(
            lines[index + 1].strip()
        ):
            rows = []
            while index < len(lines) and lines[index].strip().startswith("|"):
                rows.append(_table_cells(lines[index]))
                index += 1
            out += [""] + _convert_table(rows)
            continue
        image = _IMAGE.match(stripped)
        if image:
            out += [""] + _convert_image(image, source_dir, image_dir, image_prefix)
            index += 1
            continue
        if re.fullmatch(r"(-{3,}|\*{3,}|_{3,})", stripped):
            out.append("")
            index += 1
            continue
        item = _LIST_ITEM.match(line)
        if item:
            marker = item.group("marker")
            marker = "-" if marker in "-*+" else marker.rstrip(").") + "."
            marker_col = lists.open_item(len(item.group("indent").expandtabs(4)), len(marker))
            if out and out[-1].strip() and marker_col != lists.previous_marker_col:
                out.append("")  # reST needs a blank line around a nested list
            lists.previous_marker_col = marker_col
            out.append(" " * marker_col + f"{marker} {convert_inline(item.group('text'))}")
            index += 1
            continue
        if stripped.startswith(">"):
            lists.close()
            out += ["", "   " + convert_inline(stripped.lstrip("> ")), ""]
            index += 1
            continue
        if not stripped:
            out.append("")
        elif lists.open and line[:1].isspace():
            # A continuation line of a list item: align it with the item's text.
            out.append(" " * lists.text_col + convert_inline(stripped))
        else:
            if lists.open and out and out[-1].strip():
                out.append("")
            lists.close()
            out.append(convert_inline(stripped))
        index += 1
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip() + "\n"


def _ends_lists(stripped):
    """Code, headings, tables, images and rules end any open list."""
    return stripped.startswith(("```", "#", "|", "![")) or bool(
        re.fullmatch(r"(-{3,}|\*{3,}|_{3,})", stripped)
    )


class _ListState:
    """Open list items: their Markdown indent and the reST columns of marker and text."""

    def __init__(self):
        self.stack = []  # (markdown indent, marker column, text column)
        self.previous_marker_col = None

    @property
    def open(self):
        return bool(self.stack)

    @property
    def text_col(self):
        return self.stack[-1][2]

    def open_item(self, md_indent, marker_width):
        """Record a new item; return the reST column of its marker."""
        while self.stack and self.stack[-1][0] > md_indent:
            self.stack.pop()
        if self.stack and self.stack[-1][0] == md_indent:
            marker_col = self.stack.pop()[1]
        elif self.stack:
            marker_col = self.stack[-1][2]  # nested: under the parent's text
        else:
            marker_col = 0
        self.stack.append((md_indent, marker_col, marker_col + marker_width + 1))
        return marker_col

    def close(self):
        self.stack.clear()
        self.previous_marker_col = None


def write_results_page(results_md, target, image_dir):
    """Write the reST body of the benchmark report, or a note if there are no results.

    Parameters
    ----------
    results_md : pathlib.Path
        ``benchmarks/RESULTS.md``; it may be absent.
    target : pathlib.Path
        The file to write (included by ``benchmarks.rst``).
    image_dir : pathlib.Path
        Where the report's figures are copied, next to ``target``.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if image_dir.exists():
        shutil.rmtree(image_dir)
    if Path(results_md).is_file():
        text = markdown_to_rst(
            Path(results_md).read_text(encoding="utf-8"),
            Path(results_md).parent,
            Path(image_dir),
            f"{target.parent.name}/{Path(image_dir).name}",
        )
    else:
        text = MISSING_NOTE
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
