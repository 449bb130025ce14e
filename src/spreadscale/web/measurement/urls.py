"""Measurement pages below /p/<slug>/."""

from django.urls import path

from spreadscale.web.measurement import board, entry, io_views, views

M = "measures/<slug:measure_slug>/"

urlpatterns = [
    path(M + "chart/", views.chart_settings, name="measure_chart_settings"),
    path(M + "adjustments/", views.add_adjustment, name="measure_adjustment"),
    path(
        M + "adjustments/<int:adjustment_id>/withdraw/",
        views.withdraw_adjustment,
        name="measure_adjustment_withdraw",
    ),
    path(M + "sites/<int:site_id>/rebase/", views.decide_rebase, name="measure_rebase"),
]

urlpatterns += [
    path("import/", io_views.import_page, name="measurement_import"),
    path("import/discard/", io_views.discard_import, name="measurement_import_discard"),
    path(M + "template.csv", io_views.import_template, name="measurement_import_template"),
    path(M + "export.<str:fmt>", io_views.export_observations, name="measurement_export"),
]

urlpatterns += [
    path(
        M + "sites/<int:site_id>/chart.<str:fmt>",
        views.chart_export,
        name="measure_chart_export",
    ),
]

urlpatterns += [
    path("glance/", board.glance, name="measurement_glance"),
    path("glance.xlsx", board.glance_xlsx, name="measurement_glance_xlsx"),
    path(M + "funnel/", board.funnel_page, name="measure_funnel"),
    path(M + "funnel.<str:fmt>", board.funnel_export, name="measure_funnel_export"),
]

urlpatterns += [path("entry/", entry.entry_grid, name="measurement_entry")]

urlpatterns += [
    path(M + "sites/<int:site_id>/values/", views.site_values, name="measure_site_values"),
]
