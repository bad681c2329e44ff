"""Whether this machine has fonts for the scripts the demo and most teams use (CJK, Devanagari, Arabic):
without them a browser on this machine draws empty boxes. `make run` asks, as it checks for the base model."""

import shutil
import subprocess

# script → (families any one of which will do, the Debian/Ubuntu package that has them)
NEEDED = {
    "Chinese, Japanese, Korean": (("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC"), "fonts-noto-cjk"),
    "Devanagari (Hindi, Marathi, Nepali)": (("Noto Sans Devanagari",), "fonts-noto-core"),
    "Arabic (Arabic, Persian, Urdu)": (("Noto Naskh Arabic", "Noto Sans Arabic"), "fonts-noto-core"),
}


def installed_families() -> set[str] | None:
    """The font families fontconfig knows, or None where there is no fontconfig (macOS, Windows)."""
    if shutil.which("fc-list") is None:
        return None
    listing = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, timeout=30).stdout
    return {family.strip() for line in listing.splitlines() for family in line.split(",") if family.strip()}


def missing_scripts(families: set[str]) -> dict[str, str]:
    """Each script with no font among `families`, and the package that would give it one."""
    return {script: package for script, (wanted, package) in NEEDED.items() if not families.intersection(wanted)}
