"""The real bundled SmolLM2: converted once from its GGUF, registered, and it answers."""

import pytest
from django.core.management import call_command

from ml.llm.files import is_complete
from ml.llm.inference import LocalBackend
from ml.llm.params import GenerationParams
from webapp.modelstore.models import ModelVariant
from webapp.modelstore.services import variant_ref

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_install_base_model_converts_the_bundled_smollm2_once_and_it_answers(capsys, settings):
    call_command("install_base_model")
    first = capsys.readouterr().out
    call_command("install_base_model")
    assert "nothing to do" in capsys.readouterr().out
    variant = ModelVariant.objects.get(kind="base")
    assert variant.name == "smollm2-135m-instruct" and variant.status == "ready" and variant.size_bytes > 100e6
    assert "Installed" in first or "registered" in first or "installed" in first
    ref = variant_ref(variant)
    assert is_complete(settings.MODELS_STORE / variant.path)
    files = {p.name for p in (settings.MODELS_STORE / variant.path).iterdir()}
    assert "model.safetensors" in files and not any(name.endswith((".bin", ".pt", ".gguf")) for name in files)
    answer = LocalBackend().generate(
        ref, [{"role": "user", "content": "What is the capital of France?"}], GenerationParams(max_new_tokens=20)
    )
    assert "Paris" in answer
