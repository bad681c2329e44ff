"""Draw the package-level import graph into docs/architecture.md (a Mermaid flowchart between the
`dependency-graph` markers), from the real imports (grimp, which import-linter uses, so function-local
imports count). `--check` exits 1 when the drawn graph is out of date; a test runs it in CI.

    python scripts/dependency_graph.py          # rewrite the picture
    python scripts/dependency_graph.py --check  # is it current?
"""

import argparse
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # grimp finds our packages on the path
DOC = ROOT / "docs" / "architecture.md"
START, END = "<!-- dependency-graph:start -->", "<!-- dependency-graph:end -->"
CORE = {
    "jobs",
    "queue",
    "permissions",
    "apifields",
    "apischema",
    "safejson",
    "registry",
    "errors",
    "env",
    "accounts",
    "audit",
}
ENTRY = {"urls", "asgi", "arena_asgi", "arena_proxy", "wsgi", "embedded", "settings", "settings_test"}


def unit(module: str) -> str | None:
    """The box a module is drawn in: an app or the core of webapp, a subpackage of ml, or workers."""
    parts = module.split(".")
    if parts[0] == "workers":
        return "workers"
    if parts[0] == "ml":
        return ".".join(parts[:2]) if len(parts) > 1 else None
    if parts[0] == "webapp" and len(parts) > 1:
        if parts[1] in CORE:
            return "webapp core"
        if parts[1] in ENTRY:
            return "webapp entry points"
        return f"webapp.{parts[1]}"
    return None


def edges() -> list[tuple[str, str]]:
    graph = grimp.build_graph("ml", "webapp", "workers", cache_dir=None)
    found = set()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            a, b = unit(importer), unit(imported)
            if a and b and a != b:
                found.add((a, b))
    return sorted(found)


def mermaid() -> str:
    ids: dict[str, str] = {}

    def node(name: str) -> str:
        if name not in ids:
            ids[name] = name.replace(".", "_").replace(" ", "_")
        return ids[name]

    lines = [f"    {node(a)} --> {node(b)}" for a, b in edges()]
    labels = [f'    {ident}["{name}"]' for name, ident in ids.items()]
    return "\n".join(["```mermaid", "flowchart TD", *labels, *lines, "```"])


def render(text: str) -> str:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{mermaid()}\n{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/architecture.md is out of date")
    args = parser.parse_args()
    current = DOC.read_text(encoding="utf-8")
    wanted = render(current)
    if args.check:
        if wanted != current:
            print("docs/architecture.md: the dependency picture is out of date; run python scripts/dependency_graph.py")
            return 1
        return 0
    DOC.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
