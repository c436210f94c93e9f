"""URLs of the staff portal (namespace "syncapp"); models reverse customer-detail and run-detail."""

from django.urls import path

from syncapp.views import (
    bulk,
    client_sync,
    configuration,
    customers,
    entry,
    matching,
    merge,
    readiness,
    runs,
    webhooks,
)

app_name = "syncapp"

urlpatterns = [
    path("", customers.customer_list, name="customer-list"),
    path("customers/<int:pk>/", customers.customer_detail, name="customer-detail"),
    path("customers/<int:pk>/edit/", customers.customer_edit, name="customer-edit"),
    path("customers/new/", entry.customer_create, name="customer-create"),
    path("customers/<int:pk>/sites/new/", entry.site_create, name="site-create"),
    path("customers/<int:pk>/sites/<int:site_pk>/", entry.site_edit, name="site-edit"),
    path("customers/<int:pk>/merge/", merge.merge_customer, name="merge-customer"),
    path("sync/halopsa/", runs.sync_halopsa, name="sync-halopsa"),
    path("runs/", runs.run_list, name="run-list"),
    path("runs/<int:pk>/", runs.run_detail, name="run-detail"),
    path("runs/<int:pk>/progress.json", runs.run_progress, name="run-progress"),
    path("runs/<int:pk>/cancel/", runs.run_cancel, name="run-cancel"),
    path("runs/<int:pk>/changes.csv", runs.run_changes_csv, name="run-changes-csv"),
    path("customers/<int:pk>/history.csv", customers.customer_history_csv, name="customer-history-csv"),
    path("readiness/", readiness.export_readiness, name="export-readiness"),
    path("readiness.csv", readiness.export_readiness_csv, name="export-readiness-csv"),
    path("matching/", matching.matching_queue, name="matching"),
    path("matching/<int:pk>/", matching.match_customer, name="match-customer"),
    path("matching/<int:pk>/unlink/", matching.unlink_customer_view, name="unlink-customer"),
    path("matching/duplicates/<int:pk>/different/", matching.duplicate_different, name="duplicate-different"),
    path("matching/bulk/", bulk.bulk_link, name="bulk-link"),
    path("mappings/", configuration.field_mappings, name="field-mappings"),
    path("connection/", configuration.connection, name="connection"),
    path("connection/schedule/", configuration.connection_schedule, name="connection-schedule"),
    path("connection/test/", configuration.connection_test, name="connection-test"),
    path("customers/<int:pk>/sync/", client_sync.customer_sync, name="customer-sync"),
    path("customers/<int:pk>/sync-state.json", client_sync.customer_sync_state, name="customer-sync-state"),
    path("connection/webhook-test/", configuration.connection_webhook_test, name="connection-webhook-test"),
    path("halo/webhook/", webhooks.halo_webhook, name="halo-webhook"),
]
