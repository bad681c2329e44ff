"""The inference interface on tiny real models: batching, adapters, streaming, thread safety, and the
OpenAI-compatible backend over real HTTP."""

import threading

import pytest

from ml.llm.inference import LocalBackend, encode_prompts
from ml.llm.openai_backend import OpenAICompatibleBackend, RemoteError
from ml.llm.params import BadParams, GenerationParams, VariantRef
from tests.llm.openai_server import serve

GREEDY = GenerationParams(max_new_tokens=12)
ASK = [{"role": "user", "content": "Nenne drei Farben."}]


@pytest.fixture(scope="module")
def refs(tiny_model, tiny_adapters):
    a, b = tiny_adapters
    return {
        "base": VariantRef("base", str(tiny_model)),
        "a": VariantRef("a", str(tiny_model), str(a)),
        "b": VariantRef("b", str(tiny_model), str(b)),
    }


@pytest.fixture(scope="module")
def backend():
    return LocalBackend()


def test_adapters_change_the_output_and_switching_back_restores_the_base(backend, refs):
    base = backend.generate(refs["base"], ASK, GREEDY)
    a, b = backend.generate(refs["a"], ASK, GREEDY), backend.generate(refs["b"], ASK, GREEDY)
    assert len({base, a, b}) == 3
    assert backend.generate(refs["base"], ASK, GREEDY) == base
    assert len(backend._loaded) == 1  # one base loaded once; adapters switched on it


def test_a_batch_gives_the_same_greedy_answers_as_one_by_one(backend, refs):
    prompts = [ASK, [{"role": "user", "content": "ما هو لون السماء؟"}], [{"role": "user", "content": "你好"}]]
    one_by_one = [backend.generate(refs["a"], p, GREEDY) for p in prompts]
    assert backend.generate_batch(refs["a"], prompts, GREEDY) == one_by_one


def test_streaming_gives_the_same_text_as_a_plain_call(backend, refs):
    assert "".join(backend.stream(refs["b"], ASK, GREEDY)) == backend.generate(refs["b"], ASK, GREEDY)


def test_the_same_seed_gives_the_same_sample(backend, refs):
    sampled = GenerationParams(max_new_tokens=12, temperature=1.0, seed=7)
    assert backend.generate(refs["a"], ASK, sampled) == backend.generate(refs["a"], ASK, sampled)


def test_two_concurrent_streams_for_two_adapters_never_mix(backend, refs):
    params = GenerationParams(max_new_tokens=40)
    solo = {name: backend.generate(refs[name], ASK, params) for name in ("a", "b")}
    results, barrier = {}, threading.Barrier(4)

    def run(name: str, slot: int) -> None:
        barrier.wait()
        results[(name, slot)] = "".join(backend.stream(refs[name], ASK, params))

    threads = [threading.Thread(target=run, args=(n, s)) for n in ("a", "b") for s in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results == {(n, s): solo[n] for n in ("a", "b") for s in range(2)}


def test_closing_a_stream_early_releases_the_model(backend, refs):
    stream = backend.stream(refs["a"], ASK, GenerationParams(max_new_tokens=200))
    next(stream)
    stream.close()
    assert backend.generate(refs["base"], ASK, GREEDY)  # the lock was released


def test_prompt_tokens_follow_the_chat_template(backend, refs):
    tokenizer = backend.tokenizer_for(refs["base"])
    ids = encode_prompts(tokenizer, [ASK])["input_ids"][0].tolist()
    expected = tokenizer.apply_chat_template(ASK, add_generation_prompt=True, tokenize=True)
    expected = expected["input_ids"] if hasattr(expected, "keys") else expected
    assert ids == list(expected)


def test_bad_params_are_refused():
    with pytest.raises(BadParams):
        GenerationParams(max_new_tokens=0)
    with pytest.raises(BadParams):
        GenerationParams(temperature=5)


def test_the_openai_compatible_backend_over_real_http(backend, refs):
    server = serve(backend, refs)
    try:
        remote = OpenAICompatibleBackend(f"http://127.0.0.1:{server.server_port}")
        for name in ("base", "a"):
            assert remote.generate(refs[name], ASK, GREEDY) == backend.generate(refs[name], ASK, GREEDY)
            assert "".join(remote.stream(refs[name], ASK, GREEDY)) == backend.generate(refs[name], ASK, GREEDY)
        with pytest.raises(RemoteError, match="404"):
            remote.generate(VariantRef("nope", "x"), ASK, GREEDY)
    finally:
        server.shutdown()
