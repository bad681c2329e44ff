"""The project refers only to files it contains.

* No file mentions the team's design page or a path under the team's shared folder: a user's clone
  has neither, so such a reference points nowhere. (The needles are built from pieces so that this
  file does not match itself.)
* Every `docs/*.md` path named in a .py file, README.md or docs/ exists, and where the reference names
  a section in quotes (`docs/formats.md, "Pair derivation"`), that file has a heading with that name.
"""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEEDLES = ("DESIGN" + ".md", ".." + "/shared")
DOC_REFERENCE = re.compile(r"\bdocs/([\w./-]+?\.md)\b(?:,\s*\"([^\"]+)\")?")
MAX_BYTES = 2_000_000


def repository_files() -> list[Path]:
    """Tracked files plus new files git does not ignore (so an uncommitted file is checked too)."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    paths = sorted({name for name in out.decode("utf-8", "replace").split("\0") if name})
    return [ROOT / name for name in paths if (ROOT / name).is_file()]


def text_lines(path: Path) -> list[str] | None:
    """The file's lines, or None for a binary or very large file."""
    if path.stat().st_size > MAX_BYTES:
        return None
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", "replace").splitlines()


def test_no_reference_to_files_outside_the_repository():
    hits = []
    for path in repository_files():
        lines = text_lines(path)
        for number, line in enumerate(lines or (), start=1):
            if any(needle in line for needle in NEEDLES):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:160]}")
    assert not hits, "references to files that are not in the repository:\n" + "\n".join(hits)


def headings(doc: Path) -> set[str]:
    return {
        line.lstrip("#").strip().casefold()
        for line in doc.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }


def test_docs_paths_named_in_code_and_readme_exist():
    sources = [
        p
        for p in repository_files()
        if p.suffix == ".py" or p.relative_to(ROOT).as_posix() == "README.md" or p.parent == ROOT / "docs"
    ]
    problems = []
    for path in sources:
        for number, line in enumerate(text_lines(path) or (), start=1):
            for match in DOC_REFERENCE.finditer(line):
                name, section = match.group(1), match.group(2)
                doc = ROOT / "docs" / name
                where = f"{path.relative_to(ROOT)}:{number}"
                if not doc.is_file():
                    problems.append(f"{where}: docs/{name} does not exist")
                elif section and section.casefold() not in headings(doc):
                    problems.append(f'{where}: docs/{name} has no section "{section}"')
    assert not problems, "broken references to docs/:\n" + "\n".join(problems)
