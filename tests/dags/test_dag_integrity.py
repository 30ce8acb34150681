"""Every DAG file imports through Airflow's own DagBag and follows the house rules."""

import datetime as dt

import pytest
from airflow.dag_processing.dagbag import DagBag

from tests.conftest import ROOT

EXPECTED = {
    "invoice_ingest": ["wait_for_night_before", "scan", "extract", "load"],
    "ledger_nightly": [
        "wait_for_ingest",
        "import_bank",
        "post",
        "reconcile",
        "build_marts",
        "report",
        "mail_report",
    ],
    "month_end_close": ["wait_for_month_nights", "close_metrics", "lock_period"],
}
# every task that writes the warehouse (or runs dbt) is in the one-slot warehouse pool;
# extraction and the sensors are not
WRITERS = {
    "invoice_ingest": {"scan", "load"},
    "ledger_nightly": {"import_bank", "post", "reconcile", "build_marts", "report"},
    "month_end_close": {"close_metrics", "lock_period"},
}


@pytest.fixture(scope="module")
def dagbag():
    return DagBag(dag_folder=str(ROOT / "dags"))


def test_no_import_errors_and_exactly_our_dags(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == set(EXPECTED)


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_tasks_in_order_without_cycles(dagbag, dag_id):
    dag = dagbag.get_dag(dag_id)
    order = [t.task_id for t in dag.topological_sort()]
    assert order == EXPECTED[dag_id]


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_owner_tags_retries_timeouts_and_failure_notifier(dagbag, dag_id):
    dag = dagbag.get_dag(dag_id)
    assert "closeflow" in dag.tags and len(dag.tags) >= 2
    assert dag.catchup is False and dag.max_active_runs == 1
    for task in dag.tasks:
        assert task.owner == "closeflow-data-eng"
        assert task.retries >= 1
        assert task.execution_timeout is not None and task.execution_timeout <= dt.timedelta(
            hours=1
        )
        names = [type(cb).__name__ for cb in task.on_failure_callback]
        assert names == ["FailureNotifier"], task.task_id


@pytest.mark.parametrize(
    "dag_id, trigger, window",
    [
        ("invoice_ingest", "2026-01-06T00:00:00+01:00", ("2026-01-05", "2026-01-06")),
        ("ledger_nightly", "2026-03-30T00:00:00+02:00", ("2026-03-29", "2026-03-30")),
        ("month_end_close", "2026-02-01T00:00:00+01:00", ("2026-01-01", "2026-02-01")),
    ],
)
def test_each_run_owns_exactly_its_window(dagbag, dag_id, trigger, window):
    """Airflow 3 cron schedules default to zero-length intervals; ours are a day or a month."""
    from airflow.serialization.encoders import coerce_to_core_timetable

    from closeflow.runtime import Window

    tt = coerce_to_core_timetable(dagbag.get_dag(dag_id).timetable)
    interval = tt.infer_manual_data_interval(run_after=dt.datetime.fromisoformat(trigger))
    got = Window.from_interval(interval.start, interval.end, "Europe/Berlin")
    assert (got.start.isoformat(), got.end.isoformat()) == window


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_warehouse_writers_share_one_pool(dagbag, dag_id):
    from closeflow.airflow import WAREHOUSE_POOL

    dag = dagbag.get_dag(dag_id)
    pooled = {t.task_id for t in dag.tasks if t.pool == WAREHOUSE_POOL}
    assert pooled == WRITERS[dag_id]


def test_the_nightly_ledger_has_a_morning_deadline(dagbag):
    """Done by 06:00 company time: six hours after the scheduler queues the midnight run."""
    from airflow.sdk.definitions.deadline import DeadlineReference

    from closeflow.airflow.deadlines import night_late

    [alert] = dagbag.get_dag("ledger_nightly").deadline
    assert alert.reference == DeadlineReference.DAGRUN_QUEUED_AT
    assert alert.interval == dt.timedelta(hours=6)
    assert alert.callback.path == f"{night_late.__module__}.{night_late.__name__}"


def test_ocr_runs_on_the_ocr_queue_the_compose_workers_take(dagbag):
    from closeflow.airflow import OCR_QUEUE

    queues = {t.task_id: t.queue for t in dagbag.get_dag("invoice_ingest").tasks}
    assert queues["extract"] == OCR_QUEUE == "ocr"
    assert {q for task, q in queues.items() if task != "extract"} == {"default"}


def test_the_warehouse_pool_is_created_with_one_slot():
    """`closeflow airflow nights` (and setup) create the pool in Airflow's metadata DB."""
    from airflow.models.pool import Pool

    from closeflow.airflow import WAREHOUSE_POOL, ensure_pool

    ensure_pool()
    assert Pool.get_pool(WAREHOUSE_POOL).slots == 1


@pytest.mark.parametrize(
    "dag_id, param",
    [("invoice_ingest", "date"), ("ledger_nightly", "date"), ("month_end_close", "period")],
)
def test_the_trigger_form_asks_for_the_night_or_month(dagbag, dag_id, param):
    """The UI's trigger form (and the REST API's conf) take the window as a parameter."""
    params = dagbag.get_dag(dag_id).params
    assert list(params.keys()) == [param]
    assert params.get_param(param).value is None  # scheduled runs use their interval


@pytest.fixture
def empty_home(tmp_path, monkeypatch):
    """A company with nothing received: the night runs fast and writes its step log."""
    company = tmp_path / "company"
    company.mkdir()
    (company / "company.yml").write_text("name: Test GmbH\ntimezone: Europe/Berlin\n")
    (company / "chart_of_accounts.yml").write_text("accounts: []\n")
    (company / "suppliers.yml").write_text("suppliers: []\n")
    monkeypatch.setenv("CLOSEFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("CLOSEFLOW_WAREHOUSE_URL", f"duckdb:///{tmp_path / 'w.duckdb'}")
    return tmp_path


def test_a_real_run_takes_its_night_from_params_or_refuses_at_once(dagbag, empty_home, capfd):
    """dag.test() is a real DAG run: without a logical date its interval ends at the
    trigger instant, which names no night: the first task fails at its first try. With
    params.date it owns that night, whatever day it runs on."""
    from closeflow.runtime import Runtime

    dag = dagbag.get_dag("invoice_ingest")
    refused = dag.test()
    assert str(getattr(refused.state, "value", refused.state)) == "failed"
    states = {ti.task_id: (str(ti.state), ti.try_number) for ti in refused.get_task_instances()}
    assert states["wait_for_night_before"] == ("failed", 1)
    assert states["scan"][0] == "upstream_failed"
    out, err = capfd.readouterr()
    assert "RunWindowRefused" in out + err and "triggered at a wall-clock time" in out + err

    ran = dag.test(run_conf={"date": "2026-01-05"})
    assert str(getattr(ran.state, "value", ran.state)) == "success"
    rt = Runtime.from_env()
    with rt.warehouse.connected():
        runs = rt.warehouse.query(f"SELECT run_id, status FROM {rt.warehouse.schema}.step_runs")
    assert runs.to_pylist() == [{"run_id": "ingest:2026-01-05", "status": "success"}]
