"""The tables every benchmark prints and keeps under var/bench/ for the README."""

from pathlib import Path


def markdown_table(columns: list[str], rows: list[list[str]], text_columns: int = 1) -> str:
    """A markdown table: the first `text_columns` columns left-aligned, the others right-aligned (figures)."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * text_columns + "---:|" * (len(columns) - text_columns)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def write_text(text: str, path: Path) -> str:
    print(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    return text


def write_table(title: str, rows: list[tuple[str, float, float]], path: Path, digits: int = 2) -> str:
    """rows: (metric, ours, baseline); the ratio is ours / baseline."""
    cells = [[name, f"{ours:,.{digits}f}", f"{base:,.{digits}f}", f"{ours / base:.2f}"] for name, ours, base in rows]
    return write_text(f"{title}\n\n" + markdown_table(["metric", "ours", "baseline", "ratio"], cells), path)


def p95(values: list[float]) -> float:
    """The 95th percentile by nearest rank: the value at 0.95 × (n - 1), rounded, of the sorted values."""
    values = sorted(values)
    return values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
