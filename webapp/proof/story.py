"""`manage.py prove_loop`: the loop shown to make the bundled model better in the team's languages,
played through the app's own interfaces on an empty store.

1. The base model is installed (an install job) and the proof's prompts are created through the API:
   training prompts in the candidate languages, held-out prompts of other topics in those and in
   languages it never trains on (sv, pl, sw). The retrieval index is built (an index job) and every
   held-out prompt with a cross-lingual or same-language near-duplicate among the training prompts is
   deleted before anything is measured.
2. A generation job samples several on-policy answers per training prompt at temperature 0.8 with **no
   language instruction anywhere** (prompt or system prompt). Training languages are chosen by the
   measured headroom of those samples (share not in the prompt's language), among the languages with
   enough in-language samples to prefer; the others are listed with the reason.
3. The `language-fidelity` judge ranks every task (a judge job). Two seeded simulated annotators
   (webapp/proof/annotators.py, an independent signal: stop words, repetition, echo) rank a sample of
   tasks per language through the annotation API, so the judge gate measures a real agreement.
4. One DPO job through the normal launch path on the campaign's rankings (the judge admitted per
   language by the gate), evaluated by generation on the held-out prompts as its last step; with
   `--budget full`, an SFT job on the same data as a baseline.
5. The job's stored evaluation is printed: per language parent vs child with 95% intervals, unseen
   languages marked, the paired test, the pooled difference and whether the targets are met.

Jobs run through their Celery task bodies: by default in this process right after the API queued them
(`inline`, no worker needed; a worker that took the job first is waited for instead), or, with `--url`,
on the running app's workers."""

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from ml.evaluation.language import in_language
from webapp.apiclient import ApiStoryError, api_call, wait_for_job
from webapp.proof.annotators import SimulatedAnnotator
from webapp.proof.prompt_sets import ProofPrompt, by_language, read_prompt_set

TRAIN_SOURCE, HELDOUT_SOURCE = "proof-train", "proof-heldout"
JUDGE = "language-fidelity"
MIN_SHARE = 0.2  # below: too few in-language samples to prefer (the base cannot write the language)
MIN_HEADROOM = 0.05  # above 95% in-language already: nothing to gain
NEAR_DUPLICATE = 0.8  # cosine similarity at which a held-out prompt is too close to a training prompt


@dataclass(frozen=True)
class Budget:
    name: str
    train_languages: int  # chosen by headroom among the candidates
    train_prompts: int  # per candidate language
    samples: int  # on-policy answers per training prompt
    sample_tokens: int
    human_tasks: int  # per training language, ranked by each simulated annotator
    eval_prompts: int  # held-out prompts per language
    eval_tokens: int
    max_steps: int  # optimizer steps of the DPO job (0: one epoch)
    learning_rate: float
    sft_baseline: bool
    judge_min_items: int = 20  # the gate: human-ranked tasks a judge must agree on, per language
    beta: float = 0.1  # DPO's KL anchor to the parent
    sft_weight: float = 0.0  # an SFT loss on the chosen answers beside DPO's (RPO): curbs repetition


BUDGETS = {
    # Every training prompt's task is ranked by both simulated annotators, so the gate has about 20
    # comparable tasks per language (24 left 12-19). The SFT term curbs the repetition DPO alone brought on;
    # measured on one store (README): 0.5 over 50 steps removed it but also most of the gain (pooled +0.028),
    # 0.15 over 60 steps kept the gain (+0.083) with 1-2 more degenerate answers in two languages.
    "small": Budget("small", 4, 36, 4, 96, 36, 54, 64, 60, 1e-4, False, sft_weight=0.15),
    "full": Budget("full", 6, 36, 6, 128, 36, 54, 96, 0, 1e-4, True, sft_weight=0.15),
}


class ProofError(ApiStoryError):
    pass


@dataclass
class ProofResult:
    phases: list[tuple[str, float]] = field(default_factory=list)  # (phase, seconds)
    base: str = ""
    campaign: int = 0
    removed_heldout: list[dict] = field(default_factory=list)
    headroom: dict[str, dict] = field(default_factory=dict)  # language -> {samples, in_language, share}
    chosen: list[str] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)  # language -> why
    human_rankings: int = 0
    judge_agreement: list[dict] = field(default_factory=list)
    jobs: dict[str, dict] = field(default_factory=dict)  # "dpo" / "sft" -> the finished job


def _job_runners() -> dict[str, Callable[[int], None]]:
    """What each job's Celery task runs (workers/tasks/*), for running a queued job in this process."""
    from webapp.judging.services import judge_job_run
    from webapp.modelstore.jobs import model_job_run
    from webapp.retrieval.services import index_build_run
    from webapp.training.services import training_run

    return {
        "model-jobs": model_job_run,
        "judge-jobs": judge_job_run,
        "training-jobs": training_run,
        "search/index/builds": index_build_run,
    }


@dataclass
class ProofStory:
    connect: Callable[[str], httpx.Client]  # API token -> a client of the app (in-process or remote)
    staff_token: str
    annotator_tokens: list[str]
    set_languages: Callable[[int, list[str]], None]  # (annotator index, languages): account setup
    budget: Budget
    base_model: str = ""  # a registered variant's name; default: install the bundled base
    inline: bool = True
    languages: tuple[str, ...] = ()  # force the training languages (skip the headroom choice)
    prompts: list[ProofPrompt] = field(default_factory=read_prompt_set)
    timeout: float = 7200.0
    seed: int = 1
    say: Callable[[str], None] = print
    result: ProofResult = field(default_factory=ProofResult)

    def __post_init__(self) -> None:
        self.client = self.connect(self.staff_token)

    # --- HTTP ------------------------------------------------------------------------------------
    def call(self, method: str, url: str, *, client: httpx.Client | None = None, **kwargs: Any) -> Any:
        return api_call(client or self.client, method, url, error=ProofError, **kwargs)

    def all_pages(self, url: str, **params: Any) -> Iterator[dict]:
        page = self.call("GET", url, params=params)
        while True:
            yield from page["results"] if isinstance(page, dict) else page
            if not isinstance(page, dict) or not page.get("next"):
                return
            page = self.call("GET", page["next"])

    def run_job(self, kind: str, job: dict, what: str) -> dict:
        """Run a queued job's task body here (inline), then wait for the row to finish."""
        if self.inline and job.get("status") == "queued":
            _job_runners()[kind](job["id"])

        def fetch() -> dict:
            if kind == "search/index/builds":
                return next((b for b in self.call("GET", "/api/v1/search/index/builds/") if b["id"] == job["id"]), job)
            return self.call("GET", f"/api/v1/{kind}/{job['id']}/")

        return wait_for_job(
            fetch,
            what,
            timeout=self.timeout,
            interval=0.5 if self.inline else 2.0,
            say=None if self.inline else self.say,
            error=ProofError,
        )

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        self.say(f"== {name}")
        yield
        seconds = time.monotonic() - started
        self.result.phases.append((name, seconds))
        self.say(f"   ({seconds:.0f} s)")

    # --- the story -------------------------------------------------------------------------------
    def play(self) -> ProofResult:
        with self.phase("1. base model, prompts, near-duplicate check"):
            self.step_base()
            train, heldout = self.step_prompts()
            self.step_near_duplicates(train, heldout)
        with self.phase("2. on-policy answers and the training languages"):
            self.step_sample()
            self.step_choose_languages()
        with self.phase("3. the language-fidelity judge and the simulated annotators"):
            self.step_judge()
            self.step_annotate()
            self.step_agreement()
        with self.phase("4. DPO job (trains, then evaluates by generation)"):
            self.result.jobs["dpo"] = self.step_train("dpo")
        if self.budget.sft_baseline:
            with self.phase("4b. SFT job on the same data (baseline)"):
                self.result.jobs["sft"] = self.step_train("sft")
        return self.result

    def step_base(self) -> None:
        variants = {v["name"]: v for v in self.all_pages("/api/v1/variants/")}
        if self.base_model:
            if self.base_model not in variants:
                raise ProofError(f"no variant named {self.base_model!r} (registered: {', '.join(variants) or 'none'})")
            self.result.base = self.base_model
            return
        job = self.call("POST", "/api/v1/model-jobs/install/", json={})
        if job.get("status") != "succeeded":
            job = self.run_job("model-jobs", job, "install")
        installed = [v for v in self.all_pages("/api/v1/variants/") if v["kind"] == "base" and v["status"] == "ready"]
        if not installed:
            raise ProofError(f"the install job left no ready base model: {job.get('error') or job.get('result')}")
        self.result.base = installed[0]["name"]
        self.say(f"   base model: {self.result.base}")

    def step_prompts(self) -> tuple[dict[int, ProofPrompt], dict[int, ProofPrompt]]:
        if any(True for _ in self.all_pages("/api/v1/prompts/", source=TRAIN_SOURCE)):
            raise ProofError(
                "This store already holds a proof run (prompts with source proof-train). Run it on an empty "
                "store: `make prove` uses its own (var/prove) and starts it afresh."
            )
        train: dict[int, ProofPrompt] = {}
        heldout: dict[int, ProofPrompt] = {}
        for _language, prompts in sorted(by_language(self.prompts, "train").items()):
            for prompt in prompts[: self.budget.train_prompts]:
                train[self._create_prompt(prompt, TRAIN_SOURCE)] = prompt
        for _language, prompts in sorted(by_language(self.prompts, "heldout").items()):
            for prompt in prompts[: self.budget.eval_prompts]:
                heldout[self._create_prompt(prompt, HELDOUT_SOURCE)] = prompt
        self.say(
            f"   {len(train)} training prompts in {len(by_language(list(train.values()), 'train'))} languages, "
            f"{len(heldout)} held-out prompts in {len(by_language(list(heldout.values()), 'heldout'))} languages"
        )
        return train, heldout

    def _create_prompt(self, prompt: ProofPrompt, source: str) -> int:
        body = {"content": prompt.text, "language": prompt.language, "group": prompt.group, "source": source}
        return int(self.call("POST", "/api/v1/prompts/", json=body)["id"])

    def step_near_duplicates(self, train: dict[int, ProofPrompt], heldout: dict[int, ProofPrompt]) -> None:
        build = self.call("POST", "/api/v1/search/index/builds/")
        self.run_job("search/index/builds", build, "index build")
        scan = min(20000, len(train) + len(heldout))
        params = {"threshold": NEAR_DUPLICATE, "scan": scan, "limit": 500}
        pairs = [
            *self.call("GET", "/api/v1/search/translation-links/", params=params)["results"],
            *self.call("GET", "/api/v1/search/duplicates/", params=params)["results"],
        ]
        close: dict[int, dict] = {}
        for pair in pairs:
            a, b = pair["a"]["id"], pair["b"]["id"]
            for held, other in ((a, b), (b, a)):
                if held in heldout and other in train and held not in close:
                    close[held] = {"heldout": pair[("a" if held == a else "b")], "train": train[other].text}
                    close[held]["score"] = pair["score"]
        for held in close:
            self.call("DELETE", f"/api/v1/prompts/{held}/")
            del heldout[held]
        self.result.removed_heldout = list(close.values())
        self.say(
            f"   near-duplicates (cosine >= {NEAR_DUPLICATE}, retrieval index, across languages too): "
            f"{len(close)} held-out prompt(s) removed"
        )
        for item in self.result.removed_heldout[:5]:
            self.say(f"     {item['heldout']['text'][:60]!r} ~ {item['train'][:60]!r} ({item['score']:.2f})")

    def step_sample(self) -> None:
        languages = sorted(by_language(self.prompts, "train"))
        campaign = self.call(
            "POST",
            "/api/v1/campaigns/",
            json={
                "name": f"Proof {time.strftime('%Y-%m-%d %H:%M:%S')}",
                "languages": languages,
                "overlap": 2,
                "guidelines": "Rank answers written in the prompt's language first; repetitive answers or answers "
                "that repeat the question last.",
            },
        )
        self.result.campaign = campaign["id"]
        self.campaign_name = campaign["name"]
        base = next(v for v in self.all_pages("/api/v1/variants/") if v["name"] == self.result.base)
        job = self.call(
            "POST",
            "/api/v1/model-jobs/generate/",
            json={
                "variants": [base["id"]],
                "campaign": campaign["id"],
                "sources": [TRAIN_SOURCE],
                "samples": self.budget.samples,
                "temperature": 0.8,
                "top_p": 0.95,
                "max_new_tokens": self.budget.sample_tokens,
                "responses_per_task": min(4, self.budget.samples),
                "batch_size": 32,
                "seed": self.seed,
            },
        )
        done = self.run_job("model-jobs", job, "generation")
        self.say(f"   generation: {done.get('result')}")

    def tasks(self) -> list[dict]:
        return list(self.all_pages("/api/v1/tasks/", campaign=self.result.campaign))

    def step_choose_languages(self) -> None:
        counts: dict[str, list[int]] = {}
        for task in self.tasks():
            seen = counts.setdefault(task["language"], [0, 0])
            for response in task["responses"]:
                seen[0] += 1
                seen[1] += in_language(response["text"], task["language"]) is True
        for language, (samples, hits) in sorted(counts.items()):
            self.result.headroom[language] = {"samples": samples, "in_language": hits, "share": hits / samples}
        for language in sorted(by_language(self.prompts, "heldout")):
            if language not in counts:
                self.result.excluded[language] = "held-out prompts only: evaluated as a language never trained on"
        if self.languages:
            self.result.chosen = sorted(self.languages)
            for language in counts:
                if language not in self.languages:
                    self.result.excluded[language] = "not among the languages named with --languages"
        else:
            eligible = []
            for language, row in self.result.headroom.items():
                if row["share"] < MIN_SHARE:
                    self.result.excluded[language] = (
                        f"only {row['share']:.0%} of its samples are in the language: too few to prefer"
                    )
                elif 1 - row["share"] < MIN_HEADROOM:
                    self.result.excluded[language] = f"{row['share']:.0%} of its samples are in the language already"
                else:
                    eligible.append(language)
            eligible.sort(key=lambda lang: (self.result.headroom[lang]["share"], lang))
            self.result.chosen = sorted(eligible[: self.budget.train_languages])
            for language in eligible[self.budget.train_languages :]:
                self.result.excluded[language] = (
                    f"less headroom ({1 - self.result.headroom[language]['share']:.0%}) than the "
                    f"{self.budget.train_languages} chosen"
                )
        if not self.result.chosen:
            raise ProofError(f"no language qualifies for training: {self.result.excluded}")
        self.say("   language  samples  in-language  headroom")
        for language, row in self.result.headroom.items():
            mark = "train" if language in self.result.chosen else "-"
            self.say(f"   {language:8}  {row['samples']:7}  {row['share']:11.0%}  {1 - row['share']:8.0%}  {mark}")
        self.say(f"   training languages: {', '.join(self.result.chosen)}")
        for language, why in sorted(self.result.excluded.items()):
            self.say(f"   not trained: {language}: {why}")

    def step_judge(self) -> None:
        job = self.call(
            "POST",
            "/api/v1/judge-jobs/",
            json={"judge": JUDGE, "campaign": self.result.campaign, "languages": self.result.chosen},
        )
        done = self.run_job("judge-jobs", job, "judge")
        self.judge_origin = done["judge"]
        self.say(f"   {done['judge']}: {done.get('result')}")

    def step_annotate(self) -> None:
        annotators = [SimulatedAnnotator(seed=self.seed + i) for i in range(len(self.annotator_tokens))]
        for language in self.result.chosen:
            for index, (annotator, token) in enumerate(zip(annotators, self.annotator_tokens, strict=True)):
                self.set_languages(index, [language])
                next_body = {"campaign": self.result.campaign}
                with self.connect(token) as client:
                    for _count in range(self.budget.human_tasks):
                        got = self.call("POST", "/api/v1/tasks/next/", client=client, json=next_body)
                        task = got["task"]
                        if task is None:
                            break
                        ranking = annotator.rank(
                            task_id=task["id"],
                            prompt=task["prompt"]["text"],
                            language=task["language"],
                            answers=[(r["position"], r["text"]) for r in task["responses"]],
                        )
                        body = {
                            "ranking": ranking,
                            "display_order": [r["position"] for r in task["responses"]],
                            "seconds": 20.0,
                        }
                        self.call("POST", f"/api/v1/tasks/{task['id']}/annotations/", client=client, json=body)
                        self.result.human_rankings += 1
        self.say(f"   simulated annotators: {self.result.human_rankings} rankings through the API")

    def step_agreement(self) -> None:
        report = self.call("GET", "/api/v1/review/", params={"campaign": self.result.campaign})
        rows = [row for row in report["judges"]["agreement"] if row["judge"] == self.judge_origin]
        self.result.judge_agreement = rows
        for row in rows:
            agreement = row.get("agreement")
            shown = "-" if agreement is None else f"{agreement:.2f}"
            self.say(
                f"   judge vs annotators, {row['language']}: agreement {shown} on {row['n_pairs']} strict pairs "
                f"of {row['n_tasks']} tasks"
            )

    def step_train(self, kind: str) -> dict:
        data = {
            "campaigns": [self.campaign_name],
            "languages": self.result.chosen,
            "judges": [self.judge_origin],
            "judge_min_items": self.budget.judge_min_items,
            "eval_fraction": 0,
        }
        # The form's preview first (what the data selects now), its token carried so the job keeps it.
        preview = self.call("POST", "/api/v1/training-jobs/preview/", json={"data": data})
        at_least = "at least " if preview["approximate"] else ""
        self.say(f"   {kind}: {at_least}{preview['train_pairs']} training pairs previewed")
        job = self.call(
            "POST",
            "/api/v1/training-jobs/",
            json={
                "preview": preview["token"],
                "kind": kind,
                "parent": self.result.base,
                "data": data,
                "hyperparameters": {
                    "epochs": 1.0,
                    "max_steps": self.budget.max_steps,
                    "learning_rate": self.budget.learning_rate,
                    "batch_size": 4,
                    "max_length": 320,
                    "save_steps": 20,
                    "beta": self.budget.beta,
                    **({"sft_weight": self.budget.sft_weight} if kind == "dpo" else {}),
                },
                "eval_generation": {
                    "max_prompts_per_language": self.budget.eval_prompts,
                    "max_new_tokens": self.budget.eval_tokens,
                    "prompt_sources": [HELDOUT_SOURCE],
                },
            },
        )
        done = self.run_job("training-jobs", job, f"{kind} job")
        taken = sum(
            ((done.get("data_summary") or {}).get("snapshot") or {}).get("train_pairs_by_language", {}).values()
        )
        self.say(f"   {kind} job {job['id']}: trained on {taken} pairs; registered {done['variant']}")
        return done


def proof_accounts(prefix: str = "proof") -> tuple[str, list[str], Callable[[int, list[str]], None]]:
    """A staff token (the first superuser, else a new `proof-staff`), two annotators with tokens, and
    how to set an annotator's languages: account setup, the only direct database writes of the proof."""
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    from webapp.feedback.services.catalog import annotator_set_languages
    from webapp.feedback.services.onboarding import annotator_invite

    admin = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
    if admin is None:
        admin = User.objects.create_superuser(f"{prefix}-staff", password=None)
    users = []
    for i in (1, 2):
        name = f"{prefix}-annotator-{i}"
        user = User.objects.filter(username=name).first() or annotator_invite(username=name, languages=["en"]).user
        users.append(user)

    def set_languages(index: int, languages: list[str]) -> None:
        annotator_set_languages(user=users[index], languages=languages)

    tokens = [Token.objects.get_or_create(user=user)[0].key for user in users]
    return Token.objects.get_or_create(user=admin)[0].key, tokens, set_languages


@functools.cache
def _wsgi_app() -> Any:
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def in_process_client(token: str) -> httpx.Client:
    """A client of this process's own Django app (the WSGI handler, no server)."""
    return httpx.Client(
        transport=httpx.WSGITransport(app=_wsgi_app()),
        base_url="http://localhost",
        headers={"Authorization": f"Token {token}"},
        timeout=600,
    )


def remote_client(url: str) -> Callable[[str], httpx.Client]:
    def connect(token: str) -> httpx.Client:
        return httpx.Client(base_url=url.rstrip("/"), headers={"Authorization": f"Token {token}"}, timeout=120)

    return connect
