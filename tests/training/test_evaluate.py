"""Scoring a completion (held-out evaluation) with the real SmolLM2 chat template: the prompt's tokens are
exactly those generation feeds the model, whatever the completion starts with. A completion that starts
with a newline or spaces used to fail the job ("the chat template renders the prompt differently"),
because tokenizing the whole conversation merged the template's newline into the completion's."""

import pytest
from transformers import AutoTokenizer

from ml.llm.inference import encode_prompts
from ml.training.evaluate import _ids, completion_logprobs

PROMPT = [{"role": "user", "content": "Why is the sky blue?"}]
STARTS = ["", "\n", "\n\nIt scatters.", "  two spaces", "\u200bzero width", "Rayleigh scattering."]


@pytest.fixture(scope="module")
def tokenizer(tiny_model):
    return AutoTokenizer.from_pretrained(tiny_model)


@pytest.mark.parametrize("text", STARTS)
def test_the_prompt_tokens_are_what_generation_sees(tokenizer, text):
    ids, n_prompt = _ids(tokenizer, PROMPT, [{"role": "assistant", "content": text}])
    assert ids[:n_prompt] == encode_prompts(tokenizer, [PROMPT])["input_ids"][0].tolist()
    assert tokenizer.decode(ids[n_prompt:]).startswith(text)


def test_completions_that_start_with_whitespace_are_scored(tokenizer, tiny_model):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    scores = completion_logprobs(
        model, tokenizer, [PROMPT] * len(STARTS), [[{"role": "assistant", "content": t}] for t in STARTS]
    )
    assert len(scores) == len(STARTS) and all(score < 0 for score in scores)
