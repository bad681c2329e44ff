"""The arena's Gradio Blocks (the only module that imports Gradio): Battle, Side by side and
Leaderboard tabs under the data-use notice. Handlers are thin: they turn the visitor's connection
into a client hash, call services/selectors, and turn `ApplicationError` into `gr.Error`.

Mounted at /arena/ by webapp/asgi.py. Sync handlers run in Gradio's worker threads and may use the
ORM directly. Named endpoints for scripts (`gradio_client.Client("http://host/arena/")`):
`/battle` (prompt, language) streams `(answer A, answer B, language, status)`; `/vote_a`, `/vote_b`,
`/vote_tie`, `/vote_both_bad` (language) reveal the names; `/side_by_side` (prompt, language,
model A, model B) and `/side_vote_*`; `/leaderboard` (language, style: plain or control, default plain)
-> `(table, plot)`.

Languages. The Django catalogues (locale/*/LC_MESSAGES/django.po) are the only source of the arena's
text. The static texts (labels, buttons, tabs, the notice) go to Gradio as a `gr.I18n` mapping built
from them for every interface language (`arena_translations`); Gradio's page picks the browser's
language (`navigator.language`: de-AT shows German, zh-CN Simplified Chinese, anything else English).
What a handler says (status lines, the vote's result, errors, the leaderboard's headers and plot) is
translated on the server in the visitor's language (`visitor_language`): the site's language cookie when
the visitor chose one in the site's menu, else the request's Accept-Language, as on Django's pages.
"""

from collections.abc import Iterator
from html import escape
from pathlib import Path
from typing import TypeVar

import gradio as gr
from django.conf import settings
from django.contrib.staticfiles import finders
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.utils.translation.trans_real import parse_accept_lang_header
from gradio.i18n import I18nData
from starlette.responses import RedirectResponse

from webapp.arena import selectors, services
from webapp.arena.policy import ArenaPolicyMiddleware
from webapp.errors import ApplicationError

T = TypeVar("T")

AUTO = "auto"
ALL = "all"
# Gradio's name for an interface language where it differs from Django's (its Chinese is zh-CN / zh-TW).
GRADIO_LOCALES = {"zh-hans": "zh-CN"}
# The static texts by key; `arena_translations` looks each up in every interface language.
TEXTS = {
    "home": gettext_noop("Home"),
    "title": gettext_noop("Polyglot Feedback arena"),
    "intro": gettext_noop("Compare models in your own language; your votes train the next ones."),
    "notice": gettext_noop(
        "**Before you write a prompt:** prompts, answers and votes are kept and may be used to train and "
        "evaluate models, and may be published as part of a dataset. Do not write personal information. "
        "Nothing about you is stored except a salted hash of your connection, used to limit abuse."
    ),
    "battle": gettext_noop("Battle"),
    "battle_help": gettext_noop(
        "Two anonymous models answer. Vote for the better answer; their names appear after your vote."
    ),
    "side": gettext_noop("Side by side"),
    "side_help": gettext_noop("Choose two models by name, for example a base model and its adapted version."),
    "leaderboard": gettext_noop("Leaderboard"),
    "leaderboard_help": gettext_noop(
        "Bradley–Terry ratings fitted by maximum likelihood on the Elo scale (400 points = 10:1 odds), "
        "the base model at 1000; a tie or 'both bad' counts as half a win for each side. Intervals: "
        "95%% bootstrap (%(rounds)s rounds; they need a few votes per pair, since "
        "with one vote every round redraws that same vote). Votes cast after a model named itself, and "
        "side-by-side votes, are not counted. Staff: statistics and exclusions at "
        "[/arena-stats/](/arena-stats/)."
    ),
    "board_kind": gettext_noop("Ratings"),
    "board_plain": gettext_noop("Plain"),
    "board_style": gettext_noop("Style-controlled"),
    "style_help": gettext_noop(
        "Style control fits the same ratings with the answers' style held fixed (length, Markdown headers, "
        "lists and bold, answering in the prompt's language, repetition), so a model does not climb by writing "
        "longer or showier answers; its intervals are sandwich intervals, and a rating with fewer than "
        "%(min_votes)s votes is provisional (no interval)."
    ),
    "prompt": gettext_noop("Your prompt (any language)"),
    "language": gettext_noop("Language"),
    "send": gettext_noop("Send"),
    "model_a": gettext_noop("Model A"),
    "model_b": gettext_noop("Model B"),
    "detect": gettext_noop("Detect automatically"),
    "every": gettext_noop("All languages"),
    "vote_a": gettext_noop("A is better"),
    "vote_b": gettext_noop("B is better"),
    "vote_tie": gettext_noop("Tie"),
    "vote_both_bad": gettext_noop("Both are bad"),
}
# Texts made of others, by key.
DERIVED = {
    "heading": lambda texts: f"# {texts['title']}\n{texts['intro']}",
    "home_link": lambda texts: f"[{texts['home']}](/)",  # back to the site
}
# Filled in when the mapping is built (the same values in every language).
TEXT_PARAMS = {
    "leaderboard_help": lambda: {"rounds": settings.ARENA_BOOTSTRAP_ROUNDS},
    "style_help": lambda: {"min_votes": settings.ARENA_MIN_VOTES},
}
# The leaderboard's column headers, translated per request (they are part of the table's value).
LEADERBOARD_HEADERS = [
    gettext_noop("rank"),
    gettext_noop("model"),
    gettext_noop("rating"),
    gettext_noop("95% CI"),
    gettext_noop("votes"),
    gettext_noop("lineage"),
]
OUTCOMES = ["a", "b", "tie", "both_bad"]
PLAIN, CONTROL = selectors.PLAIN, selectors.CONTROL
STYLE_NAMES = {
    "length": gettext_noop("length"),
    "headers": gettext_noop("headers"),
    "lists": gettext_noop("list items"),
    "bold": gettext_noop("bold"),
    "in_language": gettext_noop("in the prompt's language"),
    "degenerate": gettext_noop("degenerate"),
}
# Gradio's page sets <html lang> to the language it shows; the right-to-left ones (Arabic) are laid out so,
# the Markdown texts included (Gradio marks them dir="ltr").
RTL_CSS = " ".join(
    f":lang({GRADIO_LOCALES.get(code, code)}) .gradio-container, :lang({GRADIO_LOCALES.get(code, code)}) "
    ".gradio-container .prose { direction: rtl; }"
    for code, _name in settings.LANGUAGES
    if translation.get_language_info(code)["bidi"]
)

# The site's font (static/base.css, `body`) instead of Gradio's own, and its per-script stacks, chosen by the
# lang attribute a text carries (an Arabic answer is drawn with Noto Naskh Arabic, as on the site's pages).
SITE_FONT = ["system-ui", gr.themes.Font("Noto Sans"), "sans-serif"]
# Until a battle says which language the prompt is in, its direction follows what is typed (like dir="auto").
PROMPT_CSS = "#prompt textarea, #side-prompt textarea { unicode-bidi: plaintext; text-align: start; }"


def script_fonts_css() -> str:
    """The `:lang(...)` font rules of the site's stylesheet."""
    stylesheet = Path(finders.find("base.css"))
    return " ".join(line for line in stylesheet.read_text(encoding="utf-8").splitlines() if line.startswith(":lang("))


def arena_css() -> str:
    return " ".join([RTL_CSS, PROMPT_CSS, script_fonts_css()])


def arena_theme() -> gr.themes.Base:
    return gr.themes.Default(font=SITE_FONT)


I18N = gr.I18n()  # only hands out keys; the translations go to the mounted app (mount_arena)


def text(key: str) -> I18nData:
    """A static text, shown by Gradio's page in the browser's language."""
    if key not in TEXTS and key not in DERIVED:
        raise KeyError(key)
    return I18N(key)


def arena_translations() -> dict[str, dict[str, str]]:
    """Gradio locale -> key -> text, for every interface language, looked up in the Django catalogues."""
    mapping = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            texts = {key: _(message) for key, message in TEXTS.items()}
            for key, params in TEXT_PARAMS.items():
                texts[key] = texts[key] % params()
            for key, derive in DERIVED.items():
                texts[key] = derive(texts)
        mapping[GRADIO_LOCALES.get(code, code)] = texts
    return mapping


def arena_i18n() -> gr.I18n:
    return gr.I18n(**arena_translations())


def visitor_language(request: gr.Request | None) -> str:
    """The interface language for this visitor: Django's language cookie, else the best match in the
    Accept-Language header, else LANGUAGE_CODE (Django's own order, without the URL prefix we do not use)."""
    if request is None:
        return settings.LANGUAGE_CODE
    cookies = getattr(request, "cookies", None) or {}
    headers = getattr(request, "headers", None) or {}
    wanted = [cookies.get(settings.LANGUAGE_COOKIE_NAME) or ""]
    wanted += [code for code, _quality in parse_accept_lang_header(headers.get("accept-language", "") or "")]
    for code in wanted:
        if code and code != "*":
            try:
                return translation.get_supported_language_variant(code)
            except LookupError:
                continue
    return settings.LANGUAGE_CODE


def _steps(items: Iterator[T], language: str) -> Iterator[T]:
    """Each step of `items` in `language`. Gradio may run every step of a generator handler on another worker
    thread, and Django's active language belongs to a thread, so no translation.override may span a yield."""
    try:
        while True:
            with translation.override(language):
                try:
                    item = next(items)
                except StopIteration:
                    return
            yield item
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()  # a visitor who left: the stream abandons its battle


def client_hash(request: gr.Request) -> str:
    address = request.client.host if request and request.client else "unknown"
    forwarded = request.headers.get("x-forwarded-for", "") if request else ""
    if settings.ARENA_TRUST_FORWARDED_FOR and forwarded:
        address = forwarded.split(",")[0].strip()
    return services.client_hash_for(address)


def language_choices(*, first: tuple[I18nData, str]) -> list[tuple[I18nData | str, str]]:
    return [first] + [(f"{language.name} ({language.code})", language.code) for language in selectors.arena_languages()]


def model_choices() -> list[str]:
    return [variant.name for variant in selectors.enrolled_variants()]


# --- Handlers ------------------------------------------------------------------------------------


def start_battle(prompt: str, language: str, request: gr.Request) -> Iterator[tuple]:
    """Streams (answer A, answer B, battle token, language, the battle's prompt and language, status)."""
    yield from _stream(prompt, language, None, request)


def start_side_by_side(prompt: str, language: str, model_a: str, model_b: str, request: gr.Request) -> Iterator:
    yield from _stream(prompt, language, (model_a or "", model_b or ""), request)


def _stream(prompt, language, names, request) -> Iterator[tuple]:
    speaks = visitor_language(request)
    try:
        with translation.override(speaks):
            battle = services.battle_start(
                prompt=prompt,
                client_hash=client_hash(request),
                language_code=None if language in (AUTO, None, "") else language,
                variant_names=names,
            )
            generating, complete = _("Generating…"), _("Both answers are complete: which one is better?")
        token = str(battle.token)
        shown = battle.language_id  # the stored language, for the visitor to correct before voting
        sent = {"prompt": battle.prompt, "language": shown}  # what the dropdown now shows belongs to this prompt
        for text_a, text_b in _steps(services.battle_stream(battle), speaks):
            yield text_a, text_b, token, shown, sent, generating
    except ApplicationError as exc:
        raise gr.Error(exc.message) from None
    yield text_a, text_b, token, shown, sent, complete


def language_for_prompt(prompt: str, language: str, sent: dict | None) -> str:
    """The Language dropdown's value for the prompt as it now reads: the visitor's choice for it, else
    "auto". The language shown after a battle is the battle's, not a choice for the next prompt."""
    sent = sent or {}
    code = services.battle_language_choice(
        prompt=prompt or "",
        shown=None if language in (AUTO, None, "") else language,
        sent_prompt=sent.get("prompt", ""),
        sent_language=sent.get("language", ""),
    )
    return code or AUTO


def remember_choice(prompt: str, language: str, sent: dict | None) -> dict:
    """The visitor picked a language in the dropdown: while the battle's prompt is unchanged, a correction of
    that battle's language (its vote is stored in it, and it still belongs to that prompt); otherwise a
    choice for the prompt being written."""
    sent = sent or {}
    if sent and (prompt or "").strip() == sent.get("prompt", "").strip():
        return {**sent, "language": language}
    return {}


def text_direction(language: str) -> list:
    """`dir` and `lang` for the prompt and both answers, from the language shown: Arabic right to left. With
    no language yet the prompt keeps no `lang`, and its direction follows what is typed (CSS)."""
    if language in (AUTO, None, ""):
        return [gr.update(rtl=False, html_attributes=None), gr.update(), gr.update()]
    rtl = selectors.language_direction(language) == "rtl"
    return [gr.update(rtl=rtl, html_attributes=gr.InputHTMLAttributes(lang=language))] * 3


def cast_vote(outcome: str, token: str, language: str, request: gr.Request) -> str:
    with translation.override(visitor_language(request)):
        if not token:
            raise gr.Error(_("Start a battle first."))
        try:
            vote = services.vote_cast(
                token=token,
                outcome=outcome,
                client_hash=client_hash(request),
                language_code=None if language in (AUTO, None, "") else language,
            )
        except ApplicationError as exc:
            raise gr.Error(exc.message) from None
        said = [
            _("Thanks, your vote is recorded."),
            _("Model A was **%(model_a)s**, model B was **%(model_b)s**.")
            % {"model_a": vote.variant_a.name, "model_b": vote.variant_b.name},
        ]
        if vote.identity_revealed and vote.battle.mode == "anonymous":
            said.append(_("An answer named its model, so this vote is kept as data but left out of the ratings."))
        return " ".join(said)


def _voter(outcome: str):
    def vote(token: str, language: str, request: gr.Request) -> str:
        return cast_vote(outcome, token, language, request)

    return vote


def show_leaderboard(language: str, style: str = PLAIN, request: gr.Request | None = None) -> tuple[dict, str]:
    """The table (with headers in the visitor's language) and the ratings plot, plain or style-controlled
    (`style`: plain or control); under the plot, the style coefficients."""
    style = CONTROL if style == CONTROL else PLAIN
    code = None if language in (ALL, None, "") else language
    with translation.override(visitor_language(request)):
        rows = selectors.leaderboard_with_lineage(code, style=style)
        table = [
            [rank, row["variant"], row["rating"], interval_text(row), row["votes"], row["lineage"]]
            for rank, row in enumerate(rows, start=1)
        ]
        plot = ratings_plot(rows)
        if style == CONTROL:
            plot += coefficients_html(selectors.rating_fit(code, style=CONTROL).style or {})
        return {"headers": [_(header) for header in LEADERBOARD_HEADERS], "data": table}, plot


def interval_text(row: dict) -> str:
    if row["provisional"]:
        return _("provisional")
    return f"{row['ci_low']:.0f} – {row['ci_high']:.0f}"


def coefficients_html(style: dict) -> str:
    coefficients = style.get("coefficients") or {}
    if not coefficients:
        return ""
    named = ", ".join(f"{escape(_(STYLE_NAMES.get(name, name)))} {value:+.3f}" for name, value in coefficients.items())
    lead = escape(_("Style coefficients (log-odds per standard deviation of the difference between the answers):"))
    return f'<p id="board-style">{lead} {named}</p>'


def ratings_plot(rows: list[dict]) -> str:
    """Ratings with their 95% intervals as an inline SVG (no plotting library needed)."""
    if not rows:
        return "<p>" + escape(_("No votes yet in this language.")) + "</p>"
    # a provisional rating has no interval: only its point is drawn
    ends = [value for row in rows for value in (row["ci_low"], row["rating"], row["ci_high"]) if value is not None]
    low, high = min(ends), max(ends)
    span = max(high - low, 1.0)
    width, left, line = 640, 170, 26

    def x(value: float) -> float:
        return left + (value - low) / span * (width - left - 20)

    parts = []
    for i, row in enumerate(rows):
        y = 20 + i * line
        parts.append(
            f'<text x="{left - 8}" y="{y + 4}" text-anchor="end" font-size="12">{escape(row["variant"])}</text>'
        )
        if not row["provisional"]:
            parts.append(
                f'<line x1="{x(row["ci_low"]):.1f}" x2="{x(row["ci_high"]):.1f}" y1="{y}" y2="{y}" '
                f'stroke="#57606a" stroke-width="2"><title>{row["ci_low"]:.0f} – {row["ci_high"]:.0f}</title></line>'
            )
        parts.append(
            f'<circle cx="{x(row["rating"]):.1f}" cy="{y}" r="5" fill="#0969da"><title>{row["rating"]:.0f}'
            f"</title></circle>"
        )
    height = 30 + len(rows) * line
    axis = (
        f'<text x="{left}" y="{height - 2}" font-size="11">{low:.0f}</text>'
        f'<text x="{width - 20}" y="{height - 2}" text-anchor="end" font-size="11">{high:.0f}</text>'
    )
    label = escape(_("Ratings and intervals (95%)"), quote=True)
    return (
        f'<svg role="img" aria-label="{label}" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px">{"".join(parts)}{axis}</svg>'
    )


def refresh_choices():
    languages = language_choices(first=(text("detect"), AUTO))
    models = model_choices()
    return (
        gr.update(choices=languages),
        gr.update(choices=languages),
        gr.update(choices=language_choices(first=(text("every"), ALL))),
        gr.update(choices=models),
        gr.update(choices=models),
    )


def _votes_enabled(token: str) -> list:
    return [gr.update(interactive=bool(token))] * len(OUTCOMES)


def _votes_disabled() -> list:
    return [gr.update(interactive=False)] * len(OUTCOMES)


# --- Layout --------------------------------------------------------------------------------------


def _language_events(prompt: gr.Textbox, language: gr.Dropdown, sent: gr.State, answers: list[gr.Textbox]) -> None:
    """Typing a new prompt puts the dropdown back to "auto" unless the visitor chose a language for it; the
    texts follow the language shown. Cheap handlers, outside the generation queue's limit."""
    quick = {"api_visibility": "private", "concurrency_limit": None, "show_progress": "hidden"}
    prompt.input(language_for_prompt, [prompt, language, sent], [language], trigger_mode="always_last", **quick)
    language.input(remember_choice, [prompt, language, sent], [sent], **quick)
    language.change(text_direction, [language], [prompt, *answers], **quick)


def _vote_events(prefix: str, buttons: list[gr.Button], token: gr.State, language: gr.Dropdown, result) -> None:
    for outcome, button in zip(OUTCOMES, buttons, strict=True):
        button.click(
            _voter(outcome),
            [token, language],
            [result],
            api_name=f"{prefix.replace('-', '_')}vote_{outcome}",
        ).success(_votes_disabled, None, buttons, api_visibility="private")


def _conversation(prefix: str, with_models: bool):
    """Prompt, language, (models), the two answers, vote buttons and the result line; `sent` holds the last
    battle's prompt and language (services.battle_language_choice)."""
    token = gr.State("")
    sent = gr.State({})
    models = []
    if with_models:
        with gr.Row():
            models = [
                gr.Dropdown(
                    label=text(f"model_{side.lower()}"),
                    allow_custom_value=True,
                    elem_id=f"{prefix}model-{side.lower()}",
                )
                for side in "AB"
            ]
    with gr.Row():
        prompt = gr.Textbox(
            label=text("prompt"),
            lines=3,
            max_length=settings.ARENA_PROMPT_MAX_CHARS,
            scale=4,
            elem_id=f"{prefix}prompt",
        )
        language = gr.Dropdown(
            label=text("language"),
            choices=[(text("detect"), AUTO)],
            value=AUTO,
            allow_custom_value=True,
            scale=1,
            elem_id=f"{prefix}language",
        )
    send = gr.Button(text("send"), variant="primary", elem_id=f"{prefix}send")
    with gr.Row():
        answers = [
            gr.Textbox(
                label=text(f"model_{side.lower()}"),
                lines=10,
                interactive=False,
                elem_id=f"{prefix}answer-{side.lower()}",
            )
            for side in "AB"
        ]
    status = gr.Markdown(elem_id=f"{prefix}status")
    with gr.Row():
        buttons = [gr.Button(text(f"vote_{o}"), interactive=False, elem_id=f"{prefix}vote-{o}") for o in OUTCOMES]
    result = gr.Markdown(elem_id=f"{prefix}result")
    _vote_events(prefix, buttons, token, language, result)
    _language_events(prompt, language, sent, answers)
    return prompt, language, sent, models, send, answers, token, status, buttons


def build_arena() -> gr.Blocks:
    # The browser tab's title stays as it is: Gradio's page does not translate a title (it would show the key).
    with gr.Blocks(title="Polyglot Feedback arena", analytics_enabled=False) as blocks:
        gr.Markdown(text("home_link"), elem_id="home-link")
        gr.Markdown(text("heading"))
        gr.Markdown(text("notice"), elem_id="data-notice")
        with gr.Tab(text("battle"), id="battle"):
            gr.Markdown(text("battle_help"))
            prompt, language, sent, _models, send, answers, token, status, buttons = _conversation(
                "", with_models=False
            )
            send.click(_votes_disabled, None, buttons, api_visibility="private").then(
                language_for_prompt, [prompt, language, sent], [language], api_visibility="private"
            ).then(start_battle, [prompt, language], [*answers, token, language, sent, status], api_name="battle").then(
                _votes_enabled, [token], buttons, api_visibility="private"
            )
        with gr.Tab(text("side"), id="side"):
            gr.Markdown(text("side_help"))
            s_prompt, s_language, s_sent, models, s_send, s_answers, s_token, s_status, s_buttons = _conversation(
                "side-", with_models=True
            )
            s_send.click(_votes_disabled, None, s_buttons, api_visibility="private").then(
                language_for_prompt, [s_prompt, s_language, s_sent], [s_language], api_visibility="private"
            ).then(
                start_side_by_side,
                [s_prompt, s_language, *models],
                [*s_answers, s_token, s_language, s_sent, s_status],
                api_name="side_by_side",
            ).then(_votes_enabled, [s_token], s_buttons, api_visibility="private")
        with gr.Tab(text("leaderboard"), id="leaderboard") as board_tab:
            gr.Markdown(text("leaderboard_help"))
            board_language = gr.Dropdown(
                label=text("language"),
                choices=[(text("every"), ALL)],
                value=ALL,
                allow_custom_value=True,
                elem_id="board-language",
            )
            board_style = gr.Radio(
                label=text("board_kind"),
                choices=[(text("board_plain"), PLAIN), (text("board_style"), CONTROL)],
                value=PLAIN,
                elem_id="board-style-toggle",
            )
            gr.Markdown(text("style_help"))
            table = gr.Dataframe(headers=LEADERBOARD_HEADERS, interactive=False, elem_id="board-table")
            plot = gr.HTML(elem_id="board-plot")
            board_inputs = [board_language, board_style]
            board_language.change(show_leaderboard, board_inputs, [table, plot], api_name="leaderboard")
            board_style.change(show_leaderboard, board_inputs, [table, plot], api_visibility="private")
            board_tab.select(show_leaderboard, board_inputs, [table, plot], api_visibility="private")
        blocks.load(
            refresh_choices, None, [language, s_language, board_language, *models], api_visibility="private"
        ).then(show_leaderboard, board_inputs, [table, plot], api_visibility="private")
    blocks.queue(
        default_concurrency_limit=settings.ARENA_CONCURRENCY, max_size=settings.ARENA_QUEUE_SIZE, api_open=False
    )
    return blocks


def mount_arena(app, *, path: str) -> None:
    """Mount the arena on a FastAPI app (the site's root, webapp/asgi.py, or the arena's own process,
    webapp/arena_asgi.py), with its Content-Security-Policy, its texts in every interface language, and `path`
    without its slash redirected to `path/`; on the site's root the caller mounts Django after it.

    `root_path` is the public path, the same in both layouts (the web process's proxy forwards paths unchanged):
    Gradio builds its URLs from it and from X-Forwarded-Host/-Proto when a proxy sends them."""

    def without_slash() -> RedirectResponse:
        return RedirectResponse(f"{path}/", status_code=308)

    app.add_api_route(path, without_slash, methods=["GET", "HEAD"], include_in_schema=False)
    gr.mount_gradio_app(
        app,
        build_arena(),
        path=path,
        root_path=path,
        footer_links=[],
        i18n=arena_i18n(),
        css=arena_css(),
        theme=arena_theme(),
    )
    app.add_middleware(ArenaPolicyMiddleware, prefix=path)
