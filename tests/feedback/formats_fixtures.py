"""Small files in the published datasets' shapes (OpenAssistant trees, UltraFeedback, HH-RLHF), written as
.jsonl, .jsonl.gz or .parquet, for the import formats' tests."""

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")


def write_records(folder: Path, name: str, records: list[dict], suffix: str) -> Path:
    path = folder / f"{name}{suffix}"
    if suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(records), path, row_group_size=2)
        return path
    text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode()
    path.write_bytes(gzip.compress(text) if suffix.endswith(".gz") else text)
    return path


def message(message_id: str, role: str, text: str, *, lang: str = "en", rank=None, replies=(), **more) -> dict:
    return {
        "message_id": message_id,
        "parent_id": None,
        "user_id": "u-" + message_id,
        "text": text,
        "role": role,
        "lang": lang,
        "review_count": 3,
        "review_result": True,
        "deleted": False,
        "rank": rank,
        "synthetic": False,
        "model_name": None,
        "replies": list(replies),
        **more,
    }


def oasst_trees() -> list[dict]:
    """Tree 1 (Portuguese): a prompt with three ranked replies, one unranked and one deleted (whose ranked
    child conversation must vanish with it); the best reply's follow-up has two ranked replies.
    Tree 2: a prompt with a single reply (nothing to rank). Tree 3: a prompt that failed review."""
    follow_up = message(
        "p2",
        "prompter",
        "E em Lisboa?",
        lang="pt-BR",
        replies=[
            message("a21", "assistant", "Em Lisboa chove mais no inverno.", lang="pt-BR", rank=1),
            message("a22", "assistant", "Lisboa tem verões secos e quentes.", lang="pt-BR", rank=0),
        ],
    )
    deleted_branch = message(
        "a14",
        "assistant",
        "Resposta apagada.",
        lang="pt-BR",
        rank=3,
        deleted=True,
        replies=[
            message(
                "p3",
                "prompter",
                "Continue.",
                lang="pt-BR",
                replies=[
                    message("a31", "assistant", "x", lang="pt-BR", rank=0),
                    message("a32", "assistant", "y", lang="pt-BR", rank=1),
                ],
            )
        ],
    )
    root = message(
        "p1",
        "prompter",
        "Como é o clima em Portugal?",
        lang="pt-BR",
        replies=[
            message(
                "a11", "assistant", "Mediterrânico, com verões quentes.", lang="pt-BR", rank=0, replies=[follow_up]
            ),
            message("a12", "assistant", "Frio o ano todo.", lang="pt-BR", rank=2),
            message("a13", "assistant", "Depende da região.", lang="pt-BR", rank=1),
            message("a15", "assistant", "Sem classificação.", lang="pt-BR", rank=None),
            deleted_branch,
        ],
    )
    single = message("q1", "prompter", "What is 2+2?", replies=[message("b1", "assistant", "4", rank=None)])
    failed = message("r1", "prompter", "spam spam", review_result=False)
    return [
        {"message_tree_id": "t1", "tree_state": "ready_for_export", "prompt": root},
        {"message_tree_id": "t2", "tree_state": "ready_for_export", "prompt": single},
        {"message_tree_id": "t3", "tree_state": "aborted_low_grade", "prompt": failed},
    ]


def completion(model: str, response: str, score) -> dict:
    return {
        "model": model,
        "principle": "helpfulness",
        "custom_system_prompt": "",
        "annotations": {"helpfulness": {"Rating": "4", "Rationale": "ok"}},
        "critique": "A critique.",
        "fine-grained_score": 4.0,
        "overall_score": score,
        "response": response,
    }


def ultrafeedback_records() -> list[dict]:
    """Record 1: four completions, two of them tied at 7.5. Record 2: only one usable completion."""
    return [
        {
            "source": "evol_instruct",
            "instruction": "Name a prime number.",
            "models": ["m1", "m2", "m3", "m4"],
            "completions": [
                completion("m1", "2 is prime.", 7.5),
                completion("m2", "9 is prime.", 2.0),
                completion("m3", "7 is a prime number.", 7.5),
                completion("m4", "Primes include 2, 3 and 5.", 9.0),
            ],
            "correct_answers": ["2"],
            "incorrect_answers": ["9"],
        },
        {
            "source": "sharegpt",
            "instruction": "Say hi.",
            "models": ["m1", "m2"],
            "completions": [completion("m1", "Hi!", 8.0), completion("m2", "", 3.0)],
            "correct_answers": [],
            "incorrect_answers": [],
        },
    ]


def hh_records() -> list[dict]:
    """A multi-turn pair, a single-turn pair, and two quirks: identical final turns, differing prompts."""
    shared = "\n\nHuman: What should I cook tonight?\n\nAssistant: Do you like pasta?\n\nHuman: Yes, a lot."
    return [
        {
            "chosen": shared + "\n\nAssistant: Try spaghetti aglio e olio: garlic, oil, chili.",
            "rejected": shared + "\n\nAssistant: Just order something.",
        },
        {
            "chosen": "\n\nHuman: Hi\n\nAssistant: Hello! How can I help?",
            "rejected": "\n\nHuman: Hi\n\nAssistant: What.",
        },
        {"chosen": "\n\nHuman: Hi\n\nAssistant: Same.", "rejected": "\n\nHuman: Hi\n\nAssistant: Same."},
        {"chosen": "\n\nHuman: Hi\n\nAssistant: A.", "rejected": "\n\nHuman: Hello\n\nAssistant: B."},
    ]
