"""The proof's report: the per-language table of a training job's evaluation by generation (parent vs
child on the same held-out prompts, unseen languages marked), the pooled difference, and the issue's
targets checked one by one."""

from dataclasses import dataclass

ALPHA = 0.05


@dataclass(frozen=True)
class Target:
    what: str
    met: bool


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _interval(figures: dict) -> str:
    if figures.get("ci_low") is None:
        return "not measurable"
    return f"{figures['fidelity']:.2f} [{figures['ci_low']:.2f}, {figures['ci_high']:.2f}]"


def table(generation: dict) -> list[str]:
    rows = [
        f"Evaluation by generation: {generation['parent']} (parent) vs {generation['child']} (child), greedy, "
        f"{generation['settings']['max_new_tokens']} new tokens, the same held-out prompts",
        "| language | trained | n | parent in-language [95% CI] | child in-language [95% CI] | discordant "
        "(parent only / child only) | McNemar p | degenerate parent → child | echo parent → child |",
        "|---|---|---:|---|---|---:|---:|---|---|",
    ]
    for row in generation["languages"]:
        parent, child = row["parent"], row["child"]
        discordant = "-" if row.get("only_parent") is None else f"{row['only_parent']} / {row['only_child']}"
        p_value = "-" if row.get("p_value") is None else f"{row['p_value']:.4f}"
        rows.append(
            f"| {row['language']} | {'unseen' if row['unseen'] else 'yes'} | {row['n']} | {_interval(parent)} | "
            f"{_interval(child)} | {discordant} | {p_value} | {_share(parent['degenerate'])} → "
            f"{_share(child['degenerate'])} | {_share(parent['echo'])} → {_share(child['echo'])} |"
        )
    pooled = generation.get("pooled_trained")
    if pooled:
        rows.append(
            f"Pooled over the trained languages: child − parent in-language = {pooled['estimate']:+.3f}, "
            f"95% CI {pooled['ci_low']:+.3f} to {pooled['ci_high']:+.3f} (Newcombe, paired; n = {pooled['n']}, "
            f"discordant {pooled['only_parent']} / {pooled['only_child']}, McNemar p = {pooled['p_value']:.4g})"
        )
    if generation.get("not_measurable"):
        rows.append(f"Not measurable (no language detector for them): {', '.join(generation['not_measurable'])}")
    return rows


def targets(generation: dict) -> list[Target]:
    """The proof's targets: a significant paired gain in each trained language, a pooled interval above
    0, and no rise of degenerate or echo answers in any trained language."""
    trained = [row for row in generation["languages"] if not row["unseen"] and row.get("p_value") is not None]
    out = []
    for row in trained:
        gain = row["only_child"] > row["only_parent"] and row["p_value"] < ALPHA
        out.append(
            Target(
                f"{row['language']}: more in-language answers, exact McNemar p < {ALPHA} "
                f"({row['only_parent']} / {row['only_child']}, p = {row['p_value']:.4f})",
                gain,
            )
        )
    pooled = generation.get("pooled_trained")
    out.append(
        Target(
            "pooled over the trained languages: the 95% CI of child − parent excludes 0"
            + (f" ({pooled['ci_low']:+.3f} to {pooled['ci_high']:+.3f})" if pooled else " (nothing measured)"),
            bool(pooled) and pooled["ci_low"] > 0,
        )
    )
    for row in trained:
        for measure in ("degenerate", "echo"):
            before, after = row["parent"][measure], row["child"][measure]
            what = f"{row['language']}: {measure} share does not rise ({before:.2f} → {after:.2f})"
            out.append(Target(what, after <= before))
    return out
