"""The ratio table every benchmark prints and keeps under var/bench/ for the README."""

from pathlib import Path


def write_table(title: str, rows: list[tuple[str, float, float]], path: Path, digits: int = 2) -> str:
    """rows: (metric, ours, baseline); the ratio is ours / baseline."""
    lines = [title, "", "| metric | ours | baseline | ratio |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {ours:,.{digits}f} | {base:,.{digits}f} | {ours / base:.2f} |" for name, ours, base in rows]
    text = "\n".join(lines)
    print(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    return text
