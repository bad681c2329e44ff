"""Check the proof prompt sets (webapp/proof/prompts/*.jsonl): counts per language and split, unique
groups, train and held-out topics disjoint, no language named in a prompt. Exit code 1 on any problem.

    .venv/bin/python scripts/validate_proof_prompts.py"""

import json
import os
import re
import sys
import unicodedata
from collections import Counter, defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "webapp", "proof", "prompts")
EXPECTED = {  # lang: (train, heldout)
    "de": (36, 54),
    "it": (36, 54),
    "nl": (36, 54),
    "fr": (36, 54),
    "es": (36, 54),
    "pt": (36, 54),
    "sv": (0, 54),
    "pl": (0, 54),
    "sw": (0, 20),
}
KEYS = {"prompt", "language", "group", "split", "topic"}

# Language names (and a few "language"/"translate" words) in each language.
# Matched case-insensitively at the START of a word, so inflected forms
# (Nederlandse, polskie, Deutschland, ...) are caught too.
LANG_NAMES = """
English German Italian Dutch Flemish French Spanish Castilian Portuguese Swedish Polish Swahili Kiswahili
Deutsch Englisch Italienisch Niederländisch Holländisch Flämisch Französisch Spanisch Portugiesisch
Schwedisch Polnisch Suaheli Sprache übersetz
inglese tedesco italiano italiana olandese fiammingo francese spagnolo portoghese svedese polacco lingua tradu
Engels Duits Italiaans Nederlands Vlaams Frans Spaans Portugees Zweeds Pools taal vertaal
anglais allemand italien néerlandais flamand français française espagnol portugais suédois polonais souahéli langue
inglés alemán neerlandés holandés francés español castellano portugués sueco polaco suajili idioma lengua
inglês alemão neerlandês holandês francês espanhol português polonês suaíli língua
engelska tyska italienska nederländska holländska franska spanska portugisiska svenska polska swahili språk översätt
angielski niemiecki włoski niderlandzki holenderski francuski hiszpański portugalski szwedzki polski
suahili język tłumacz
polsku angielsku niemiecku włosku francusku hiszpańsku portugalsku szwedzku niderlandzku holendersku
Kiingereza Kijerumani Kiitaliano Kiholanzi Kifaransa Kihispania Kireno Kiswidi Kipolandi lugha tafsiri
""".split()
# Reviewed false positives: words that merely start like a language name.
ALLOW = {"poolster"}  # nl "Poolster" = Pole Star, not "Pools" (Polish)

ENGLISH_TELLS = {"the", "and", "what", "how", "why", "which", "with", "you", "your", "please", "answer", "explain"}

ALLOWED_NONASCII = {
    "de": "äöüÄÖÜß",
    "it": "àèéìòùÀÈÉÌÒÙ",
    "nl": "éëèïöüáóúÉ",
    "fr": "àâæçéèêëîïôœùûüÿÀÂÇÉÈÊÎÔŒÙÛ«»",
    "es": "áéíóúñüÁÉÍÓÚÑ¿¡",
    "pt": "áâãàçéêíóôõúüÁÂÃÀÇÉÊÍÓÔÕÚ",
    "sv": "åäöéÅÄÖÉ",
    "pl": "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ„”",
    "sw": "",
}
COMMON_OK = "’–—…"


def words(s):
    return [w for w in re.findall(r"[^\W_]+(?:[-'’][^\W_]+)*", s)]


problems = []


def bad(msg):
    problems.append(msg)


rows = []
for lang in EXPECTED:
    path = os.path.join(OUT, f"{lang}.jsonl")
    if not os.path.exists(path):
        bad(f"missing file {path}")
        continue
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                bad(f"{lang}:{i} empty line")
                continue
            try:
                r = json.loads(line)
            except Exception as e:
                bad(f"{lang}:{i} JSON error {e}")
                continue
            if set(r) != KEYS:
                bad(f"{lang}:{i} keys {sorted(r)}")
            if not all(isinstance(r.get(k), str) and r.get(k) for k in KEYS):
                bad(f"{lang}:{i} non-string/empty field")
            if r.get("language") != lang:
                bad(f"{lang}:{i} language field {r.get('language')!r}")
            if r.get("split") not in ("train", "heldout"):
                bad(f"{lang}:{i} split {r.get('split')!r}")
            r["_file"], r["_line"] = lang, i
            rows.append(r)

# counts
cnt = Counter((r["language"], r["split"]) for r in rows)
for lang, (ntr, nho) in EXPECTED.items():
    if cnt[(lang, "train")] != ntr:
        bad(f"{lang} train count {cnt[(lang, 'train')]} != {ntr}")
    if cnt[(lang, "heldout")] != nho:
        bad(f"{lang} heldout count {cnt[(lang, 'heldout')]} != {nho}")

# groups
gc = Counter(r["group"] for r in rows)
for g, n in gc.items():
    if n > 1:
        bad(f"duplicate group {g}")
for r in rows:
    m = re.fullmatch(r"([a-z]{2})-(train|heldout)-(\d{2})", r["group"])
    if not m or m.group(1) != r["language"] or m.group(2) != r["split"]:
        bad(f"bad group id {r['group']} for {r['language']}/{r['split']}")

# topic pools disjoint (across ALL files)
train_topics = {r["topic"] for r in rows if r["split"] == "train"}
held_topics = {r["topic"] for r in rows if r["split"] == "heldout"}
if train_topics & held_topics:
    bad(f"topics in both pools: {sorted(train_topics & held_topics)}")

# per language: one prompt per topic per split, no duplicate prompts, no near-duplicates
by_lang = defaultdict(list)
for r in rows:
    by_lang[r["language"]].append(r)
for lang, rs in by_lang.items():
    tc = Counter((r["split"], r["topic"]) for r in rs)
    for k, n in tc.items():
        if n > 1:
            bad(f"{lang}: topic {k} used {n} times")
    pc = Counter(r["prompt"].strip().lower() for r in rs)
    for p, n in pc.items():
        if n > 1:
            bad(f"{lang}: duplicate prompt {p!r}")
    ws = [set(w.lower() for w in words(r["prompt"]) if len(w) > 3) for r in rs]
    for i in range(len(rs)):
        for j in range(i + 1, len(rs)):
            if ws[i] and ws[j]:
                jac = len(ws[i] & ws[j]) / len(ws[i] | ws[j])
                if jac >= 0.5:
                    bad(f"{lang}: near-duplicate ({jac:.2f}) {rs[i]['group']} / {rs[j]['group']}")

# identical prompt text across languages
xc = Counter(r["prompt"].strip().lower() for r in rows)
for p, n in xc.items():
    if n > 1:
        bad(f"same prompt text in several files: {p!r}")

# per prompt checks
name_res = [(n, re.compile(r"(?<![^\W\d_])" + re.escape(n.lower()))) for n in LANG_NAMES]
for r in rows:
    p, lang, gid = r["prompt"], r["language"], r["group"]
    if p != p.strip() or "  " in p:
        bad(f"{gid}: whitespace issue")
    if unicodedata.normalize("NFC", p) != p:
        bad(f"{gid}: not NFC")
    n = len(words(p))
    if not 6 <= n <= 25:
        bad(f"{gid}: {n} words: {p}")
    low = p.lower()
    for name, rx in name_res:
        for m in rx.finditer(low):
            tok = re.match(r"[^\W\d_]+", low[m.start() :]).group(0)
            if tok not in ALLOW:
                bad(f"{gid}: contains language word {name!r} ({tok!r}): {p}")
    eng = ENGLISH_TELLS & {w.lower() for w in words(p)}
    if eng:
        bad(f"{gid}: English-looking words {eng}: {p}")
    for ch in p:
        if ord(ch) > 127 and ch not in ALLOWED_NONASCII[lang] and ch not in COMMON_OK:
            bad(f"{gid}: unexpected character {ch!r} (U+{ord(ch):04X}): {p}")
    if not re.search(r"[?.!:]$", p):
        bad(f"{gid}: no final punctuation: {p}")

print(f"rows: {len(rows)}")
for lang in EXPECTED:
    print(f"  {lang}.jsonl: train={cnt[(lang, 'train')]} heldout={cnt[(lang, 'heldout')]}")
print(
    f"train topics: {len(train_topics)}  heldout topics: {len(held_topics)}  overlap: {len(train_topics & held_topics)}"
)
if problems:
    print(f"\n{len(problems)} PROBLEM(S):")
    for m in problems:
        print("  -", m)
    sys.exit(1)
print("ALL CHECKS PASSED")
