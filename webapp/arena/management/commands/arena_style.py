"""`manage.py arena_style`: measure the style of the votes stored before style control (length, Markdown,
language, repetition), so the style-controlled leaderboard counts them too."""

from django.core.management.base import BaseCommand

from webapp.arena.style import style_tokeniser, vote_styles_fill


class Command(BaseCommand):
    help = (
        "Store the style measures of every arena vote that has none (votes cast since style control have "
        "them already). Length is counted in tokens of the installed base model's tokenizer, else in words."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--remeasure",
            action="store_true",
            help="also re-measure votes counted with another tokenizer (e.g. in words, before a base was installed)",
        )

    def handle(self, *args, **o):
        name, _tokenise = style_tokeniser()
        written = vote_styles_fill(remeasure=o["remeasure"])
        self.stdout.write(f"{written} votes measured (tokens: {name})")
