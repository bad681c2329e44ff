"""The response -> variant link moved from feedback.Response.variant to modelstore.ResponseOrigin
(migrations modelstore/0002 and feedback/0006): every link survives the move, in batches, and the
move can be undone."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("feedback", "0005_task_gold_position"), ("modelstore", "0001_initial")]
AFTER = [("feedback", "0006_remove_response_variant"), ("modelstore", "0002_responseorigin")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _seed_old_schema(apps, n_linked: int, n_unlinked: int) -> dict[int, int]:
    Language = apps.get_model("feedback", "Language")
    Prompt = apps.get_model("feedback", "Prompt")
    Response = apps.get_model("feedback", "Response")
    ModelVariant = apps.get_model("modelstore", "ModelVariant")
    language = Language.objects.create(code="de", name="German")
    prompt = Prompt.objects.create(content="Hallo", text="Hallo", content_hash="h", language=language)
    variants = [ModelVariant.objects.create(name=f"v{i}", kind="base") for i in range(3)]
    rows = [
        Response(prompt=prompt, content=f"r{i}", text=f"r{i}", content_hash=f"h{i}", variant=variants[i % 3])
        for i in range(n_linked)
    ]
    rows += [
        Response(prompt=prompt, content=f"x{i}", text=f"x{i}", content_hash=f"x{i}", model_name="external")
        for i in range(n_unlinked)
    ]
    Response.objects.bulk_create(rows)
    return dict(Response.objects.filter(variant__isnull=False).values_list("pk", "variant_id"))


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_every_link_survives_the_move_and_the_way_back(monkeypatch):
    from importlib import import_module

    migration = import_module("webapp.modelstore.migrations.0002_responseorigin")
    monkeypatch.setattr(migration, "BATCH", 7)  # several batches, the last one partial
    try:
        links = _seed_old_schema(_migrate(BEFORE), n_linked=30, n_unlinked=5)
        apps = _migrate(AFTER)
        moved = dict(apps.get_model("modelstore", "ResponseOrigin").objects.values_list("response_id", "variant_id"))
        assert moved == links and len(moved) == 30
        apps = _migrate(BEFORE)
        back = apps.get_model("feedback", "Response").objects.filter(variant__isnull=False)
        assert dict(back.values_list("pk", "variant_id")) == links
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
