"""The arena's Gradio Blocks (the only module that imports Gradio): Battle, Side by side and
Leaderboard tabs under the data-use notice. Handlers are thin: they turn the visitor's connection
into a client hash, call services/selectors, and turn `ApplicationError` into `gr.Error`.

Mounted at /arena/ by webapp/asgi.py. Sync handlers run in Gradio's worker threads and may use the
ORM directly. Named endpoints for scripts (`gradio_client.Client("http://host/arena/")`):
`/battle` (prompt, language) streams `(answer A, answer B, language, status)`; `/vote_a`, `/vote_b`,
`/vote_tie`, `/vote_both_bad` (language) reveal the names; `/side_by_side` (prompt, language,
model A, model B) and `/side_vote_*`; `/leaderboard` (language) -> `(table, plot)`.
"""

from collections.abc import Iterator
from html import escape

import gradio as gr
from django.conf import settings

from webapp.arena import selectors, services
from webapp.arena.policy import ArenaPolicyMiddleware
from webapp.errors import ApplicationError

AUTO = "auto"
ALL = "all"
DETECT = ("Detect automatically", AUTO)
EVERY = ("All languages", ALL)
OUTCOMES = [("a", "A is better"), ("b", "B is better"), ("tie", "Tie"), ("both_bad", "Both are bad")]
LEADERBOARD_HEADERS = ["rank", "model", "rating", "95% CI", "votes", "lineage"]
NOTICE = (
    "**Before you write a prompt:** prompts, answers and votes are kept and may be used to train and "
    "evaluate models, and may be published as part of a dataset. Do not write personal information. "
    "Nothing about you is stored except a salted hash of your connection, used to limit abuse."
)


def client_hash(request: gr.Request) -> str:
    address = request.client.host if request and request.client else "unknown"
    forwarded = request.headers.get("x-forwarded-for", "") if request else ""
    if settings.ARENA_TRUST_FORWARDED_FOR and forwarded:
        address = forwarded.split(",")[0].strip()
    return services.client_hash_for(address)


def language_choices(*, first: tuple[str, str]) -> list[tuple[str, str]]:
    return [first] + [(f"{language.name} ({language.code})", language.code) for language in selectors.arena_languages()]


def model_choices() -> list[str]:
    return [variant.name for variant in selectors.enrolled_variants()]


# --- Handlers ------------------------------------------------------------------------------------


def start_battle(prompt: str, language: str, request: gr.Request) -> Iterator[tuple]:
    """Streams (answer A, answer B, battle token, language, status)."""
    yield from _stream(prompt, language, None, request)


def start_side_by_side(prompt: str, language: str, model_a: str, model_b: str, request: gr.Request) -> Iterator:
    yield from _stream(prompt, language, (model_a or "", model_b or ""), request)


def _stream(prompt, language, names, request) -> Iterator[tuple]:
    try:
        battle = services.battle_start(
            prompt=prompt,
            client_hash=client_hash(request),
            language_code=None if language in (AUTO, None, "") else language,
            variant_names=names,
        )
        token = str(battle.token)
        shown = battle.language_id  # the detected language, for the visitor to correct before voting
        for text_a, text_b in services.battle_stream(battle):
            yield text_a, text_b, token, shown, "Generating…"
    except ApplicationError as exc:
        raise gr.Error(exc.message) from None
    yield text_a, text_b, token, shown, "Both answers are complete: which one is better?"


def cast_vote(outcome: str, token: str, language: str, request: gr.Request) -> str:
    if not token:
        raise gr.Error("Start a battle first.")
    try:
        vote = services.vote_cast(
            token=token,
            outcome=outcome,
            client_hash=client_hash(request),
            language_code=None if language in (AUTO, None, "") else language,
        )
    except ApplicationError as exc:
        raise gr.Error(exc.message) from None
    reveal = f"Model A was **{vote.variant_a.name}**, model B was **{vote.variant_b.name}**."
    note = ""
    if vote.identity_revealed and vote.battle.mode == "anonymous":
        note = " An answer named its model, so this vote is kept as data but left out of the ratings."
    return f"Thanks, your vote is recorded. {reveal}{note}"


def _voter(outcome: str):
    def vote(token: str, language: str, request: gr.Request) -> str:
        return cast_vote(outcome, token, language, request)

    return vote


def show_leaderboard(language: str) -> tuple[list[list], str]:
    rows = selectors.leaderboard_with_lineage(None if language in (ALL, None, "") else language)
    table = [
        [
            rank,
            row["variant"],
            row["rating"],
            f"{row['ci_low']:.0f} – {row['ci_high']:.0f}",
            row["votes"],
            row["lineage"],
        ]
        for rank, row in enumerate(rows, start=1)
    ]
    return table, ratings_plot(rows)


def ratings_plot(rows: list[dict]) -> str:
    """Ratings with their 95% intervals as an inline SVG (no plotting library needed)."""
    if not rows:
        return "<p>No votes yet in this language.</p>"
    low = min(row["ci_low"] for row in rows)
    high = max(row["ci_high"] for row in rows)
    span = max(high - low, 1.0)
    width, left, line = 640, 170, 26

    def x(value: float) -> float:
        return left + (value - low) / span * (width - left - 20)

    parts = []
    for i, row in enumerate(rows):
        y = 20 + i * line
        parts.append(
            f'<text x="{left - 8}" y="{y + 4}" text-anchor="end" font-size="12">{escape(row["variant"])}</text>'
            f'<line x1="{x(row["ci_low"]):.1f}" x2="{x(row["ci_high"]):.1f}" y1="{y}" y2="{y}" stroke="#57606a" '
            f'stroke-width="2"><title>{row["ci_low"]:.0f} – {row["ci_high"]:.0f}</title></line>'
            f'<circle cx="{x(row["rating"]):.1f}" cy="{y}" r="5" fill="#0969da"><title>{row["rating"]:.0f}'
            f"</title></circle>"
        )
    height = 30 + len(rows) * line
    axis = (
        f'<text x="{left}" y="{height - 2}" font-size="11">{low:.0f}</text>'
        f'<text x="{width - 20}" y="{height - 2}" text-anchor="end" font-size="11">{high:.0f}</text>'
    )
    return (
        f'<svg role="img" aria-label="Ratings with 95% intervals" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px">{"".join(parts)}{axis}</svg>'
    )


def refresh_choices():
    languages = language_choices(first=DETECT)
    models = model_choices()
    return (
        gr.update(choices=languages),
        gr.update(choices=languages),
        gr.update(choices=language_choices(first=EVERY)),
        gr.update(choices=models),
        gr.update(choices=models),
    )


def _votes_enabled(token: str) -> list:
    return [gr.update(interactive=bool(token))] * len(OUTCOMES)


def _votes_disabled() -> list:
    return [gr.update(interactive=False)] * len(OUTCOMES)


# --- Layout --------------------------------------------------------------------------------------


def _vote_events(prefix: str, buttons: list[gr.Button], token: gr.State, language: gr.Dropdown, result) -> None:
    for (outcome, _label), button in zip(OUTCOMES, buttons, strict=True):
        button.click(
            _voter(outcome),
            [token, language],
            [result],
            api_name=f"{prefix.replace('-', '_')}vote_{outcome}",
        ).success(_votes_disabled, None, buttons, api_visibility="private")


def _conversation(prefix: str, with_models: bool):
    """Prompt, language, (models), the two answers, vote buttons and the result line."""
    token = gr.State("")
    models = []
    if with_models:
        with gr.Row():
            models = [
                gr.Dropdown(label=f"Model {side}", allow_custom_value=True, elem_id=f"{prefix}model-{side.lower()}")
                for side in "AB"
            ]
    with gr.Row():
        prompt = gr.Textbox(
            label="Your prompt (any language)",
            lines=3,
            max_length=settings.ARENA_PROMPT_MAX_CHARS,
            scale=4,
            elem_id=f"{prefix}prompt",
        )
        language = gr.Dropdown(
            label="Language",
            choices=[DETECT],
            value=AUTO,
            allow_custom_value=True,
            scale=1,
            elem_id=f"{prefix}language",
        )
    send = gr.Button("Send", variant="primary", elem_id=f"{prefix}send")
    with gr.Row():
        answers = [
            gr.Textbox(label=f"Model {side}", lines=10, interactive=False, elem_id=f"{prefix}answer-{side.lower()}")
            for side in "AB"
        ]
    status = gr.Markdown(elem_id=f"{prefix}status")
    with gr.Row():
        buttons = [gr.Button(label, interactive=False, elem_id=f"{prefix}vote-{o}") for o, label in OUTCOMES]
    result = gr.Markdown(elem_id=f"{prefix}result")
    _vote_events(prefix, buttons, token, language, result)
    return prompt, language, models, send, answers, token, status, result, buttons


def build_arena() -> gr.Blocks:
    with gr.Blocks(title="Polyglot Feedback arena", analytics_enabled=False) as blocks:
        gr.Markdown("# Polyglot Feedback arena\nCompare models in your own language; your votes train the next ones.")
        gr.Markdown(NOTICE, elem_id="data-notice")
        with gr.Tab("Battle", id="battle"):
            gr.Markdown("Two anonymous models answer. Vote for the better answer; their names appear after your vote.")
            prompt, language, _, send, answers, token, status, result, buttons = _conversation("", with_models=False)
            send.click(_votes_disabled, None, buttons, api_visibility="private").then(
                start_battle, [prompt, language], [*answers, token, language, status], api_name="battle"
            ).then(_votes_enabled, [token], buttons, api_visibility="private")
        with gr.Tab("Side by side", id="side"):
            gr.Markdown("Choose two models by name, for example a base model and its adapted version.")
            s_prompt, s_language, models, s_send, s_answers, s_token, s_status, _, s_buttons = _conversation(
                "side-", with_models=True
            )
            s_send.click(_votes_disabled, None, s_buttons, api_visibility="private").then(
                start_side_by_side,
                [s_prompt, s_language, *models],
                [*s_answers, s_token, s_language, s_status],
                api_name="side_by_side",
            ).then(_votes_enabled, [s_token], s_buttons, api_visibility="private")
        with gr.Tab("Leaderboard", id="leaderboard") as board_tab:
            gr.Markdown(
                "Bradley–Terry ratings fitted by maximum likelihood on the Elo scale (400 points = 10:1 odds), "
                "the base model at 1000; a tie or 'both bad' counts as half a win for each side. Intervals: "
                f"95% bootstrap ({settings.ARENA_BOOTSTRAP_ROUNDS} rounds; they need a few votes per pair, since "
                "with one vote every round redraws that same vote). Votes cast after a model named itself, and "
                "side-by-side votes, are not counted. Staff: statistics and exclusions at "
                "[/arena-stats/](/arena-stats/)."
            )
            board_language = gr.Dropdown(
                label="Language", choices=[EVERY], value=ALL, allow_custom_value=True, elem_id="board-language"
            )
            table = gr.Dataframe(headers=LEADERBOARD_HEADERS, interactive=False, elem_id="board-table")
            plot = gr.HTML(elem_id="board-plot")
            board_language.change(show_leaderboard, [board_language], [table, plot], api_name="leaderboard")
            board_tab.select(show_leaderboard, [board_language], [table, plot], api_visibility="private")
        blocks.load(
            refresh_choices, None, [language, s_language, board_language, *models], api_visibility="private"
        ).then(show_leaderboard, [board_language], [table, plot], api_visibility="private")
    blocks.queue(
        default_concurrency_limit=settings.ARENA_CONCURRENCY, max_size=settings.ARENA_QUEUE_SIZE, api_open=False
    )
    return blocks


def mount_arena(app, *, path: str) -> None:
    """Mount the arena on the FastAPI root, with its Content-Security-Policy; the caller mounts Django after it."""
    gr.mount_gradio_app(app, build_arena(), path=path, footer_links=[])
    app.add_middleware(ArenaPolicyMiddleware, prefix=path)
