"""Render a walk-through (a list of sections) as plain text or with rich tables.

A section is ``("text", lines)``, ``("table", title, header, rows, note)`` or
``("lines", title, lines)``.

>>> print(plain_text([("table", "T", ["a", "bb"], [["1", "2"]], None)]).strip())
T
  a  bb
  1  2
"""


def plain_text(sections):
    """The report as plain text, tables aligned in columns."""
    out = []
    for section in sections:
        if section[0] == "text":
            out += section[1]
        elif section[0] == "table":
            _, title, header, rows, note = section
            widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
            out += ["", title]
            for r in [header] + rows:
                out.append("  " + "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
            if note:
                out.append("  " + note)
        else:
            _, title, lines = section
            out += ["", title] + ["  " + line for line in lines]
    return "\n".join(out) + "\n"


def print_rich(sections, stream):
    """Print with rich tables; returns False when rich is not installed."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        return False
    console = Console(file=stream, highlight=False)
    for section in sections:
        if section[0] == "text":
            for line in section[1]:
                console.print(line, markup=False, style="bold")
        elif section[0] == "table":
            _, title, header, rows, note = section
            table = Table(title=title, title_justify="left", caption=note)
            for h in header:
                table.add_column(h)
            for r in rows:
                table.add_row(*[str(c) for c in r])
            console.print(table)
        else:
            _, title, lines = section
            console.print(title, markup=False, style="bold")
            for line in lines:
                console.print("  " + line, markup=False)
    return True
