"""schemathesis hooks for `make fuzz` (scripts/fuzz_api.py loads them with SCHEMATHESIS_HOOKS=fuzz_hooks).

Ids drawn from the whole integer range almost never name a row: about half of the generated cases use one of the
seeded rows instead (the demo data and what fuzz_api.py adds: ids 1-5 exist for prompts, responses, tasks,
annotations, variants and transfers), so detail, edit, delete and action endpoints run on real rows too."""

import schemathesis
from hypothesis import strategies as st

SEEDED_IDS = [1, 2, 3, 4, 5]
SEEDED_LANGUAGES = ["en", "de", "ar", "zh-Hans"]


@schemathesis.hook
def flatmap_path_parameters(ctx, path_parameters):
    if not path_parameters:
        return st.just(path_parameters)
    if "id" in path_parameters:
        real = st.sampled_from(SEEDED_IDS).map(lambda pk: {**path_parameters, "id": pk})
    elif "code" in path_parameters:
        real = st.sampled_from(SEEDED_LANGUAGES).map(lambda code: {**path_parameters, "code": code})
    else:
        return st.just(path_parameters)
    return st.one_of(st.just(path_parameters), real)
