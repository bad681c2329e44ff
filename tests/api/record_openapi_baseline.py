"""Record the current OpenAPI shape as the new baseline (for a deliberate new API release):
`DJANGO_SETTINGS_MODULE=webapp.settings_test python tests/api/record_openapi_baseline.py`."""

import json
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
django.setup()

from tests.api.test_openapi_stable import BASELINE, current_shape  # noqa: E402

BASELINE.write_text(json.dumps(current_shape(), indent=1, sort_keys=True, ensure_ascii=False) + "\n")
print(f"wrote {BASELINE}")
