"""Measurement pages below /p/<slug>/."""

from django.urls import path

from spreadscale.web.measurement import views

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
