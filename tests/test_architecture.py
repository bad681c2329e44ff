"""The layers hold: import-linter's contracts (pyproject.toml) pass, they fail when a back-import is
added (so they can fail at all), and the web process starts without the heavy ML libraries."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
HEAVY = ("torch", "transformers", "trl", "peft", "faiss", "sentence_transformers", "datasets")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_import_contracts_are_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture
def copy_of_the_code(tmp_path: Path) -> Path:
    for package in ("ml", "webapp", "workers"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _append(path: Path, code: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + code + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("module", "code", "contract"),
    [
        # a function-local back-import from the store to a higher app: the kind of cycle that hid before
        (
            "webapp/feedback/selectors.py",
            "def _rating():\n    from webapp.arena.selectors import leaderboard\n\n    return leaderboard",
            "webapp: each layer imports only from the layers below it",
        ),
        ("webapp/modelstore/services.py", "from webapp.training import models", "webapp: each layer imports"),
        ("ml/llm/params.py", "import django", "ml imports nothing of ours"),
        ("webapp/retrieval/selectors.py", "def _index():\n    import faiss\n\n    return faiss", "Only ml imports"),
        ("webapp/jobs/services.py", "def _app():\n    from workers import app\n\n    return app", "nothing imports it"),
        ("ml/llm/inference.py", "def _trl():\n    import trl\n\n    return trl", "the one module that imports trl"),
    ],
)
def test_a_back_import_breaks_a_contract(copy_of_the_code: Path, module: str, code: str, contract: str):
    _append(copy_of_the_code / module, code)
    result = lint_imports(copy_of_the_code)
    assert result.returncode != 0
    assert _status(result.stdout, contract) == "BROKEN", result.stdout


def _status(report: str, contract: str) -> str:
    """KEPT or BROKEN, the word after the contract's name in lint-imports' summary (which wraps lines)."""
    text = " ".join(report.split())
    start = text.index(contract)
    return min(("KEPT", "BROKEN"), key=lambda word: text.find(word, start) % (len(text) + 1))


def _modules_loaded_by(code: str) -> list[str]:
    probe = code + f"\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**_env(), "DJANGO_SETTINGS_MODULE": "webapp.settings_test"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _env() -> dict:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}


def test_the_asgi_app_with_the_arena_starts_without_the_heavy_libraries():
    assert _modules_loaded_by("import webapp.asgi\nassert webapp.asgi.application") == []


def test_manage_py_check_runs_without_the_heavy_libraries():
    code = (
        "import runpy, sys\n"
        "sys.argv = ['manage.py', 'check']\n"
        "try:\n"
        "    runpy.run_path('manage.py', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
    )
    assert _modules_loaded_by(code) == []


def test_the_dependency_picture_in_docs_is_current():
    result = subprocess.run(
        [sys.executable, "scripts/dependency_graph.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
