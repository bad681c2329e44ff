"""The whole loop as one story, played against a running app over its public interfaces: the REST
API for staff and annotators, the Gradio arena through gradio_client, and the Celery workers that
the app's jobs run on. `manage.py play_loop` tells it step by step against `make run`'s app with
the real base model; tests/e2e/test_loop.py plays the same story with tiny models and checks every
link of the chain.

1. Staff create a campaign in three languages with translation groups; a generation job makes
   ranking tasks from the first-round models (several samples per prompt).
2. Two annotators rank every task through the API; the review report shows agreement and the
   cross-lingual consistency table.
3. Staff launch a DPO job on those annotations; it registers a variant with its evaluation.
4. A second generation round compares the new variant with the base (generation takes any
   variant); the annotators rank those tasks too.
5. Both models are enrolled in the arena; anonymous battles between them produce votes.
6. A second DPO job, on the first variant, selects annotations and arena votes.
7. The leaderboard and exports in the four formats show the result.

Only the accounts (two annotators and their API tokens) are made directly in the database; every
other step goes through the interfaces a user would use."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from webapp.apiclient import ApiStoryError, api_call, wait_for_job

LANGUAGES = ("en", "de", "ar")
# Translation groups: the same question in each language.
PROMPTS = {
    "loop-water": {
        "en": "Why should I drink water during the day?",
        "de": "Warum sollte ich tagsüber Wasser trinken?",
        "ar": "لماذا يجب أن أشرب الماء خلال اليوم؟",
    },
    "loop-sleep": {
        "en": "Give me two tips for sleeping better.",
        "de": "Gib mir zwei Tipps, um besser zu schlafen.",
        "ar": "أعطني نصيحتين لنوم أفضل.",
    },
    "loop-bread": {
        "en": "How do I keep bread fresh for longer?",
        "de": "Wie bleibt Brot länger frisch?",
        "ar": "كيف أحافظ على الخبز طازجًا لفترة أطول؟",
    },
    "loop-walk-after-lunch": {  # this group's hash puts it on the held-out side at eval_fraction 0.25
        "en": "What are the benefits of a short walk after lunch?",
        "de": "Was bringt ein kurzer Spaziergang nach dem Mittagessen?",
        "ar": "ما فوائد المشي القصير بعد الغداء؟",
    },
}
ARENA_PROMPTS = {
    "en": "Explain in one sentence why the sky is blue.",
    "de": "Erkläre in einem Satz, warum der Himmel blau ist.",
    "ar": "اشرح في جملة واحدة لماذا السماء زرقاء.",
}
EXPORT_FORMATS = ("pairs", "dpo", "sft", "rankings")


class StoryError(ApiStoryError):
    """A step of the loop did not connect; the message says which and why."""


@dataclass
class LoopResult:
    campaign: int = 0
    tasks: list[int] = field(default_factory=list)
    annotations: int = 0  # through the API
    browser_annotations: int = 0
    review: dict = field(default_factory=dict)
    first_job: dict = field(default_factory=dict)
    second_round_tasks: list[int] = field(default_factory=list)
    votes: list[dict] = field(default_factory=list)
    second_job: dict = field(default_factory=dict)
    leaderboard: list[dict] = field(default_factory=list)
    exports: dict[str, list[dict]] = field(default_factory=dict)


@dataclass
class LoopStory:
    base_url: str
    staff_token: str
    annotator_tokens: dict[str, str]  # username -> API token; two annotators reading all LANGUAGES
    base_model: str  # the base variant's name
    first_round: list[str] = field(default_factory=list)  # variants answering round 1 (default: the base)
    campaign_name: str = "Loop story"
    max_new_tokens: int = 32
    samples: int = 2  # per model and prompt; a task takes 2 distinct non-empty answers, one per model in turn
    train_steps: int = 8
    battles: int = 6
    timeout: float = 900.0
    say: Callable[[str], None] = print
    # Called once before the API annotators of round 1 (e.g. an annotator in a real browser); returns
    # how many tasks it ranked.
    browser_annotator: Callable[["LoopStory"], int] | None = None
    result: LoopResult = field(default_factory=LoopResult)

    # --- HTTP ------------------------------------------------------------------------------------
    def _client(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Token {token}"}, timeout=60)

    def _call(self, client: httpx.Client, method: str, url: str, **kwargs) -> dict | list:
        return api_call(client, method, url, error=StoryError, shown=500, **kwargs)

    def staff(self, method: str, url: str, **kwargs):
        with self._client(self.staff_token) as client:
            return self._call(client, method, url, **kwargs)

    def wait_job(self, url: str, what: str) -> dict:
        """Poll a job row until it finishes; narrate its progress."""
        return wait_for_job(
            lambda: self.staff("GET", url),
            what,
            timeout=self.timeout,
            say=self.say,
            error=StoryError,
            hint="is a gpu worker running?",
        )

    # --- the story -------------------------------------------------------------------------------
    def play(self) -> LoopResult:
        self.step_campaign()
        self.step_generate(self.first_round or [self.base_model], "round 1")
        self.say(
            "2. Two annotators rank every task through the API (more complete answers first; they disagree sometimes)"
        )
        self.step_annotate()
        self.step_review()
        first = self.step_train(parent=self.base_model, sources=["annotation"], label="3. The first DPO job")
        self.result.first_job = first
        self.say("4. Generation takes any variant: round 2 compares the new variant with the base")
        self.step_generate([self.base_model, first["variant"]], "round 2")
        self.step_annotate()
        self.step_review()
        self.step_arena(first["variant"])
        self.result.second_job = self.step_train(
            parent=first["variant"], sources=["annotation", "arena"], label="6. The second DPO job"
        )
        self.step_results()
        return self.result

    def step_campaign(self) -> None:
        self.say("1. Staff create a campaign in three languages, with translation groups")
        campaign = self.staff(
            "POST",
            "/api/v1/campaigns/",
            json={
                "name": self.campaign_name,
                "languages": list(LANGUAGES),
                "overlap": 2,
                "guidelines": "Rank the answers from most to least helpful: the more complete answer first.",
            },
        )
        self.result.campaign = campaign["id"]
        self.prompt_ids = []
        for group, texts in PROMPTS.items():
            for language, text in texts.items():
                prompt = self.staff(
                    "POST", "/api/v1/prompts/", json={"content": text, "language": language, "group": group}
                )
                self.prompt_ids.append(prompt["id"])
        self.say(f"   campaign {campaign['id']}: {len(self.prompt_ids)} prompts in {len(PROMPTS)} translation groups")

    def variant_ids(self, names: list[str]) -> list[int]:
        variants = {v["name"]: v["id"] for v in self._all("/api/v1/variants/")}
        missing = [name for name in names if name not in variants]
        if missing:
            raise StoryError(f"no such variant: {missing}")
        return [variants[name] for name in names]

    def _all(self, url: str) -> list[dict]:
        rows, page = [], self.staff("GET", url)
        while True:
            rows += page["results"] if isinstance(page, dict) else page
            if not isinstance(page, dict) or not page.get("next"):
                return rows
            page = self.staff("GET", page["next"])  # an absolute URL: httpx uses it as it is

    def step_generate(self, models: list[str], label: str) -> None:
        self.say(f"   generation {label}: {', '.join(models)} answer every prompt ({self.samples} samples each)")
        job = self.staff(
            "POST",
            "/api/v1/model-jobs/generate/",
            json={
                "variants": self.variant_ids(models),
                "campaign": self.result.campaign,
                "prompts": self.prompt_ids,
                "samples": self.samples,
                "responses_per_task": 2,
                "max_new_tokens": self.max_new_tokens,
            },
        )
        job = self.wait_job(f"/api/v1/model-jobs/{job['id']}/", f"generation {label}")
        ids = [t["id"] for t in self._all(f"/api/v1/tasks/?campaign={self.result.campaign}")]
        new = sorted(set(ids) - set(self.result.tasks) - set(self.result.second_round_tasks))
        if not new:
            raise StoryError(f"generation {label} made no task: {job.get('result')}")
        (self.result.tasks if label == "round 1" else self.result.second_round_tasks).extend(new)
        self.say(f"   {len(new)} new ranking tasks")

    def step_annotate(self) -> None:
        if self.browser_annotator and not self.result.browser_annotations:
            self.result.browser_annotations = self.browser_annotator(self)
            self.say(f"   an annotator ranked {self.result.browser_annotations} task(s) in the browser")
        for index, (name, token) in enumerate(self.annotator_tokens.items()):
            done = 0
            with self._client(token) as client:
                while True:
                    got = self._call(client, "POST", "/api/v1/tasks/next/", json={"campaign": self.result.campaign})
                    task = got["task"]
                    if task is None:
                        break
                    ranking = preference_ranking(task["responses"], contrarian=index == 1, task_id=task["id"])
                    body = {
                        "ranking": ranking,
                        "display_order": list(range(len(task["responses"]))),
                        "rationale": "most complete first" if index == 0 else "",
                        "seconds": 12.0 + index,
                    }
                    self._call(client, "POST", f"/api/v1/tasks/{task['id']}/annotations/", json=body)
                    done += 1
            self.result.annotations += done
            self.say(f"   {name}: {done} rankings")

    def step_review(self) -> None:
        report = self.staff("GET", f"/api/v1/review/?campaign={self.result.campaign}")
        self.result.review = report
        overall = report["agreement"][0]
        alpha = "—" if overall["alpha"] is None else f"{overall['alpha']:.2f}"
        self.say(
            f"   review: alpha {alpha} over {overall['tasks']} tasks; consistency rows: {len(report['consistency'])}"
        )
        for row in report["consistency"][:3]:
            self.say(
                f"     {row['group']} {row['language_a']}/{row['language_b']}: tau {row['tau']} flips {row['flipped']}"
            )

    def step_train(self, *, parent: str, sources: list[str], label: str) -> dict:
        self.say(f"{label}: staff launch it on {parent}, data from {' + '.join(sources)}")
        job = self.staff(
            "POST",
            "/api/v1/training-jobs/",
            json={
                "kind": "dpo",
                "parent": parent,
                "data": {
                    "sources": sources,
                    "campaigns": [self.campaign_name] if sources == ["annotation"] else [],
                    "eval_fraction": 0.25,
                },
                "hyperparameters": {"max_steps": self.train_steps, "batch_size": 2, "save_steps": 4},
            },
        )
        job = self.wait_job(f"/api/v1/training-jobs/{job['id']}/", label.split(". ", 1)[-1])
        overall = (job.get("evaluation") or {}).get("all", {})
        self.say(
            f"   registered {job['variant']}; held-out accuracy {overall.get('accuracy', float('nan')):.2f}"
            f" (parent {overall.get('parent_accuracy', float('nan')):.2f}) on {overall.get('n', 0)} pairs"
        )
        return job

    def step_arena(self, variant: str) -> None:
        self.say(f"5. Staff enrol {variant} and {self.base_model} in the arena; visitors battle and vote")
        for vid in self.variant_ids([variant, self.base_model]):
            self.staff("POST", f"/api/v1/variants/{vid}/enrol/", json={"enrolled": True})
        from gradio_client import Client

        client = Client(f"{self.base_url}/arena/", verbose=False)
        try:
            for i in range(self.battles):
                language = LANGUAGES[i % len(LANGUAGES)]
                text_a, text_b, detected, _ = client.predict(ARENA_PROMPTS[language], language, api_name="/battle")
                outcome = "a" if len(text_a) >= len(text_b) else "b"
                reveal = client.predict(language, api_name=f"/vote_{outcome}")
                self.result.votes.append({"language": detected, "outcome": outcome, "reveal": reveal})
                self.say(f"   battle {i + 1} ({detected}): voted {outcome.upper()}")
        finally:
            client.close()

    def step_results(self) -> None:
        board = self.staff("GET", "/api/v1/arena/leaderboard/")["ratings"]
        self.result.leaderboard = board
        self.say("7. The leaderboard")
        for row in board:
            interval = "provisional" if row["provisional"] else f"[{row['ci_low']:.0f}, {row['ci_high']:.0f}]"
            self.say(f"   {row['variant']}: {row['rating']:.0f} {interval} {row['votes']} votes")
        self.say("   exports in the four formats")
        for fmt in EXPORT_FORMATS:
            job = self.staff("POST", "/api/v1/transfers/export/", json={"format": fmt})
            job = self.wait_job(f"/api/v1/transfers/{job['id']}/", f"export {fmt}")
            text = self.staff("GET", f"/api/v1/transfers/{job['id']}/download/") or ""
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
            self.result.exports[fmt] = rows
            self.say(f"   {fmt}: {len(rows)} records")


def preference_ranking(responses: list[dict], *, contrarian: bool, task_id: int = 0) -> list[list[int]]:
    """Longer (more complete) answers first, ties for equal length. The contrarian annotator swaps the
    top two on every third task whose top two lengths are within 10% of each other: agreement is high,
    not perfect. (Preferring short answers would teach DPO to end at once: a tiny model then answers
    with nothing at all.)"""
    by_length = sorted(responses, key=lambda r: (-len(r["text"]), r["position"]))
    ranks: list[list[int]] = []
    for response in by_length:
        if ranks and len(response["text"]) == len(by_length[len(sum(ranks, [])) - 1]["text"]):
            ranks[-1].append(response["position"])
        else:
            ranks.append([response["position"]])
    if contrarian and task_id % 3 == 0 and len(ranks) > 1 and len(ranks[0]) == 1:
        first, second = by_length[0]["text"], by_length[1]["text"]
        if len(first) and len(second) / len(first) > 0.9:
            ranks[0], ranks[1] = ranks[1], ranks[0]
    return ranks


def prepare_accounts(prefix: str = "loop-annotator") -> tuple[str, dict[str, str]]:
    """The staff token (of the first superuser) and two annotators reading LANGUAGES with tokens,
    created through the onboarding service when missing. The only database writes of the story."""
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    from webapp.feedback.services.catalog import annotator_set_languages
    from webapp.feedback.services.onboarding import annotator_invite

    admin = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
    if admin is None:
        raise StoryError("no admin account: run `python manage.py ensure_admin` first")
    tokens = {}
    for i in (1, 2):
        name = f"{prefix}-{i}"
        user = User.objects.filter(username=name).first()
        if user is None:
            user = annotator_invite(username=name, languages=list(LANGUAGES)).user
        else:
            annotator_set_languages(user=user, languages=list(LANGUAGES))
        tokens[name] = Token.objects.get_or_create(user=user)[0].key
    return Token.objects.get_or_create(user=admin)[0].key, tokens
