"""A changed read-model schema rebuilds that read model by itself, and only that one."""

from __future__ import annotations

from projections.host import ProjectionHost
from projections.measure_catalogue import MeasureCatalogue
from projections.registry import READ_MODELS
from projections.store import ReadModelStore
from tests import builders


class CatalogueWithDueDateIndex(MeasureCatalogue):
    name = "measure_catalogue"
    schema_version = 2
    schema = (
        MeasureCatalogue.schema + ";\nCREATE INDEX catalogue_by_due ON catalogue_measures (due_on)"
    )


def scribble(path) -> None:
    """Rows no event wrote: they survive unless their read model is rebuilt."""
    with ReadModelStore(path) as store, store.transaction() as cursor:
        cursor.execute(
            "INSERT INTO catalogue_measures (measure_id, region_id, code, title, topic, "
            "responsible, status, progress, description, proposed_at, changed_at, version) "
            "VALUES ('scribble', '', '', '', '', '', '', 0, '', '', '', 0)"
        )
        cursor.execute("INSERT INTO audit_events VALUES (999999, '', '', '', '', 0, '', '')")


def count(path, sql: str) -> int:
    with ReadModelStore(path) as store:
        return store.read(sql)[0][0]


def test_a_new_schema_version_rebuilds_its_read_model_from_zero_on_start(
    regiotwin, sqlite_store, tmp_path
):
    pair = builders.muenchen_and_steinfurt(regiotwin)
    builders.measure(regiotwin, pair.muenchen_staff)
    path = tmp_path / "read_models.sqlite"
    with ProjectionHost(sqlite_store, path) as host:
        assert host.wait_until_current(10)
    scribble(path)

    changed = tuple(
        CatalogueWithDueDateIndex if cls is MeasureCatalogue else cls for cls in READ_MODELS
    )
    with ProjectionHost(sqlite_store, path, read_models=changed) as host:
        assert host.wait_until_current(10)
        assert host.positions()["measure_catalogue"] == host.head()

    assert count(path, "SELECT count(*) FROM catalogue_measures WHERE measure_id = 'scribble'") == 0
    assert count(path, "SELECT count(*) FROM catalogue_measures") == 1  # rebuilt from the log
    assert count(path, "SELECT count(*) FROM sqlite_master WHERE name = 'catalogue_by_due'") == 1
    assert count(path, "SELECT count(*) FROM audit_events WHERE position = 999999") == 1
    with ReadModelStore(path) as store:
        versions = dict(store.read("SELECT projection, version FROM projection_schema"))
    assert versions["measure_catalogue"].startswith("2:")
    assert versions["audit_index"].startswith("1:")
