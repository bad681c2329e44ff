"""Trust weights per annotator and language, from their agreement with others, skip rate and speed
(webapp/feedback/agreement.py holds the maths). Pair derivation can weigh annotations by them."""

import statistics
from collections import defaultdict

from django.db.models import Count

from webapp.feedback.agreement import annotator_agreement, trust_scores
from webapp.feedback.models import Annotation, Skip


def trust_by_language() -> dict[str, dict[str, float]]:
    """language -> {annotator id (as str) -> trust in 0.2..1}."""
    tasks: dict[str, dict[int, dict[str, list]]] = defaultdict(lambda: defaultdict(dict))
    seconds: dict[tuple[str, str], list[float]] = defaultdict(list)
    done: dict[tuple[str, str], int] = defaultdict(int)
    rows = Annotation.objects.filter(task__deleted_at__isnull=True).values_list(
        "task_id", "task__language_id", "annotator_id", "ranking", "seconds"
    )
    for task_id, language, annotator, ranking, spent in rows.iterator(chunk_size=5000):
        tasks[language][task_id][str(annotator)] = ranking
        done[(language, str(annotator))] += 1
        if spent is not None:
            seconds[(language, str(annotator))].append(spent)
    skips = Skip.objects.values_list("task__language_id", "annotator_id").annotate(n=Count("id"))
    skipped = {(language, str(annotator)): n for language, annotator, n in skips}
    result = {}
    for language, by_task in tasks.items():
        multi = [t for t in by_task.values() if len(t) > 1]
        people = {a for t in by_task.values() for a in t}
        result[language] = trust_scores(
            agreement=annotator_agreement(tasks=multi) if multi else {},
            gold={},
            skip_rate={
                a: skipped.get((language, a), 0) / (skipped.get((language, a), 0) + done[(language, a)]) for a in people
            },
            median_seconds={a: statistics.median(s) for (lang, a), s in seconds.items() if lang == language and s},
        )
    return result


def trust_weights() -> dict[tuple[int, str], float]:
    """(annotator id, language) -> weight, the form PairPolicy takes."""
    return {(int(a), language): w for language, scores in trust_by_language().items() for a, w in scores.items()}
