"""`make run` says when this machine lacks fonts for CJK, Devanagari or Arabic, and how to install them;
Japanese and Chinese get their own font stacks."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def check_fonts(**env) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    full.update(env, DJANGO_SETTINGS_MODULE="webapp.settings")
    return subprocess.run(
        [sys.executable, "manage.py", "check_fonts"], cwd=ROOT, env=full, capture_output=True, text=True
    )


def test_a_machine_without_the_fonts_is_told_what_to_install(tmp_path):
    empty = tmp_path / "fonts.conf"  # fontconfig with no font folder: a bare server
    empty.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig></fontconfig>')
    result = check_fonts(FONTCONFIG_FILE=str(empty), VAR_DIR=str(tmp_path))
    assert result.returncode == 0  # advice, never a reason not to start
    assert "Chinese, Japanese, Korean" in result.stdout and "Devanagari" in result.stdout
    assert "sudo apt-get install fonts-noto-cjk fonts-noto-core" in result.stdout


def test_this_machine_has_them(tmp_path):
    # make test installs fonts-noto-core and fonts-noto-cjk with Chromium.
    assert "are installed" in check_fonts(VAR_DIR=str(tmp_path)).stdout


def test_japanese_is_not_drawn_with_the_chinese_font():
    css = (ROOT / "static" / "base.css").read_text()
    japanese = next(line for line in css.splitlines() if line.startswith(":lang(ja)"))
    chinese = next(line for line in css.splitlines() if line.startswith(":lang(zh)"))
    assert '"Noto Sans CJK JP"' in japanese and "CJK SC" not in japanese
    assert '"Noto Sans CJK SC"' in chinese and "CJK JP" not in chinese
    assert "CJK" not in next(line for line in css.splitlines() if line.startswith("body {"))
