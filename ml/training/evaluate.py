"""Held-out evaluation of preference pairs, per language.

* Preference accuracy of a model: the share of pairs where log p(chosen | prompt) > log p(rejected |
  prompt), the log-probabilities SUMMED over the completion's tokens, under the chat template used for
  training and generation. Summed log-probabilities favour short answers (a real SmolLM2 run on the
  demo data scored 0.0 for both parent and child because the rejected answers were the short ones),
  so the per-token (length-normalised) accuracy is reported beside it.
* DPO's implicit reward against a reference (the parent): r = beta * [(log pi(c) - log ref(c)) -
  (log pi(r) - log ref(r))]; reported as accuracy (share of r > 0) and mean margin (mean r).
* KTO's held-out rows are unpaired (a completion labelled desirable or not): the implicit reward of a row
  is r = beta * (log pi(y) - log ref(y)), and the metric is the share of rows whose reward has the label's
  sign (r > 0 for a desirable completion, r < 0 for an undesirable one). The parent's reward is 0 for every
  row, so its share is 0.5 by definition (a coin that knows nothing).
Accuracies come with a 95% Wilson interval."""

import math
from collections import defaultdict
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any


class Stopped(Exception):
    """The caller's `should_stop()` said yes: the work stops between two batches."""


def never() -> bool:
    return False


def wilson(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 0.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def completion_logprobs(
    model: Any,
    tokenizer: Any,
    prompts: list[list[dict[str, Any]]],
    completions: list[list[dict[str, Any]]],
    batch_size: int = 8,
    should_stop: Callable[[], bool] = never,
) -> list[float]:
    """Sum of log p(token) over each completion's tokens, given its prompt. Raises Stopped between
    batches once `should_stop()` is true."""
    import torch

    out = []
    for start in range(0, len(prompts), batch_size):
        if should_stop():
            raise Stopped()
        items = [
            _ids(tokenizer, p, c)
            for p, c in zip(prompts[start : start + batch_size], completions[start : start + batch_size], strict=True)
        ]
        width = max(len(ids) for ids, _ in items)
        pad = tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(ids)) + ids for ids, _ in items], device=model.device)
        mask = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids, _ in items], device=model.device)
        with torch.inference_mode():
            logits = model(input_ids=input_ids, attention_mask=mask).logits.float()
        logp = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, input_ids[:, 1:, None]).squeeze(-1)
        for row, (ids, n_prompt) in enumerate(items):
            n_completion = len(ids) - n_prompt
            out.append(float(logp[row, width - 1 - n_completion :].sum()))
    return out


def _ids(tokenizer: Any, prompt: list[dict[str, Any]], completion: list[dict[str, Any]]) -> tuple[list[int], int]:
    """The prompt's tokens, then the completion's, tokenized apart as TRL does when it trains: tokenizing
    the whole conversation at once would merge the generation prompt's last newline with a completion
    that starts with whitespace ("\n\n" is one token), and the prompt would no longer be a prefix."""
    prompt_text = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
    full_text = tokenizer.apply_chat_template(prompt + completion, tokenize=False)
    if not full_text.startswith(prompt_text):
        raise ValueError("the chat template renders the prompt differently inside the conversation")
    prompt_ids = _as_list(tokenizer(prompt_text, add_special_tokens=False))
    completion_ids = _as_list(tokenizer(full_text[len(prompt_text) :], add_special_tokens=False))
    return prompt_ids + completion_ids, len(prompt_ids)


def _as_list(encoded: Any) -> list[int]:
    return list(encoded["input_ids"] if hasattr(encoded, "keys") else encoded)


def completion_lengths(
    tokenizer: Any, prompts: list[list[dict[str, Any]]], completions: list[list[dict[str, Any]]]
) -> list[int]:
    return [
        len(ids) - n_prompt
        for ids, n_prompt in (_ids(tokenizer, p, c) for p, c in zip(prompts, completions, strict=True))
    ]


def pair_logprobs(
    model: Any,
    tokenizer: Any,
    rows: list[dict[str, Any]],
    adapter_off: bool = False,
    should_stop: Callable[[], bool] = never,
) -> tuple[list[float], list[float]]:
    context = model.disable_adapter() if adapter_off else nullcontext()
    with context:
        prompts = [r["prompt"] for r in rows]
        chosen = completion_logprobs(model, tokenizer, prompts, [r["chosen"] for r in rows], should_stop=should_stop)
        rejected = completion_logprobs(
            model, tokenizer, prompts, [r["rejected"] for r in rows], should_stop=should_stop
        )
    return chosen, rejected


def evaluate_pairs(
    model: Any, tokenizer: Any, rows: list[dict[str, Any]], beta: float, should_stop: Callable[[], bool] = never
) -> tuple[dict[str, dict[str, Any]], dict[str, list[float]]]:
    """Per language (and `all`): n, accuracy of the trained model and of the parent with 95% intervals,
    implicit-reward accuracy and mean margin. `model` is a PEFT model; its parent is the model with the
    adapter switched off. Also returns the trained model's log-probabilities per row. Raises Stopped
    between batches once `should_stop()` is true."""
    if not rows:
        return {}, {"chosen": [], "rejected": []}
    policy_c, policy_r = pair_logprobs(model, tokenizer, rows, should_stop=should_stop)
    ref_c, ref_r = pair_logprobs(model, tokenizer, rows, adapter_off=True, should_stop=should_stop)
    groups: defaultdict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        for key in (row.get("language") or "und", "all"):
            groups[key].append(i)
    prompts = [r["prompt"] for r in rows]
    lengths = (
        completion_lengths(tokenizer, prompts, [r["chosen"] for r in rows]),
        completion_lengths(tokenizer, prompts, [r["rejected"] for r in rows]),
    )
    summary = {
        key: _summary(idx, policy_c, policy_r, ref_c, ref_r, beta)
        | _per_token(idx, policy_c, policy_r, ref_c, ref_r, lengths)
        for key, idx in sorted(groups.items())
    }
    return summary, {"chosen": policy_c, "rejected": policy_r}


def _per_token(
    idx: list[int],
    policy_c: list[float],
    policy_r: list[float],
    ref_c: list[float],
    ref_r: list[float],
    lengths: tuple[list[int], list[int]],
) -> dict[str, Any]:
    len_c, len_r = lengths
    wins = sum(policy_c[i] / len_c[i] > policy_r[i] / len_r[i] for i in idx)
    parent_wins = sum(ref_c[i] / len_c[i] > ref_r[i] / len_r[i] for i in idx)
    n = len(idx)
    return {
        "accuracy_per_token": wins / n,
        "accuracy_per_token_ci": wilson(wins, n),
        "parent_accuracy_per_token": parent_wins / n,
        "parent_accuracy_per_token_ci": wilson(parent_wins, n),
    }


def _summary(
    idx: list[int], policy_c: list[float], policy_r: list[float], ref_c: list[float], ref_r: list[float], beta: float
) -> dict[str, Any]:
    n = len(idx)
    wins = sum(policy_c[i] > policy_r[i] for i in idx)
    parent_wins = sum(ref_c[i] > ref_r[i] for i in idx)
    rewards = [beta * ((policy_c[i] - ref_c[i]) - (policy_r[i] - ref_r[i])) for i in idx]
    reward_wins = sum(r > 0 for r in rewards)
    return {
        "n": n,
        "accuracy": wins / n,
        "accuracy_ci": wilson(wins, n),
        "parent_accuracy": parent_wins / n,
        "parent_accuracy_ci": wilson(parent_wins, n),
        "reward_accuracy": reward_wins / n,
        "reward_accuracy_ci": wilson(reward_wins, n),
        "reward_margin": sum(rewards) / n,
        "logprob_definition": "summed over completion tokens",
    }


def evaluate_unpaired(
    model: Any, tokenizer: Any, rows: list[dict[str, Any]], beta: float, should_stop: Callable[[], bool] = never
) -> tuple[dict[str, dict[str, Any]], dict[str, list[float]]]:
    """KTO's held-out evaluation (module docstring), per language and `all`, in the keys the DPO summary uses
    so the pages read both: `accuracy` and `reward_accuracy` are the share of rows whose implicit reward has
    the label's sign, `parent_accuracy` 0.5, `reward_margin` the mean reward of desirable rows minus that of
    undesirable ones. Also returns the trained model's log-probabilities per row. Raises Stopped between
    batches once `should_stop()` is true."""
    if not rows:
        return {}, {"completion": []}
    prompts, completions = [r["prompt"] for r in rows], [r["completion"] for r in rows]
    policy = completion_logprobs(model, tokenizer, prompts, completions, should_stop=should_stop)
    with model.disable_adapter():
        ref = completion_logprobs(model, tokenizer, prompts, completions, should_stop=should_stop)
    rewards = [beta * (p - r) for p, r in zip(policy, ref, strict=True)]
    groups: defaultdict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        for key in (row.get("language") or "und", "all"):
            groups[key].append(i)
    labels = [bool(r["label"]) for r in rows]
    summary = {key: _unpaired_summary(idx, rewards, labels) for key, idx in sorted(groups.items())}
    return summary, {"completion": policy}


def _unpaired_summary(idx: list[int], rewards: list[float], labels: list[bool]) -> dict[str, Any]:
    n = len(idx)
    right = sum((rewards[i] > 0) if labels[i] else (rewards[i] < 0) for i in idx)
    desirable = [rewards[i] for i in idx if labels[i]]
    undesirable = [rewards[i] for i in idx if not labels[i]]
    mean_desirable = sum(desirable) / len(desirable) if desirable else 0.0
    mean_undesirable = sum(undesirable) / len(undesirable) if undesirable else 0.0
    share, ci = right / n, wilson(right, n)
    return {
        "n": n,
        "n_desirable": len(desirable),
        "n_undesirable": len(undesirable),
        "accuracy": share,
        "accuracy_ci": ci,
        "parent_accuracy": 0.5,
        "parent_accuracy_ci": (0.5, 0.5),
        "accuracy_per_token": share,  # dividing a reward by a positive length keeps its sign
        "accuracy_per_token_ci": ci,
        "parent_accuracy_per_token": 0.5,
        "parent_accuracy_per_token_ci": (0.5, 0.5),
        "reward_accuracy": share,
        "reward_accuracy_ci": ci,
        "reward_desirable": mean_desirable,
        "reward_undesirable": mean_undesirable,
        "reward_margin": mean_desirable - mean_undesirable,
        "logprob_definition": "summed over completion tokens",
        "metric": "share of held-out rows whose implicit reward has the label's sign (parent: 0.5 by definition)",
    }
