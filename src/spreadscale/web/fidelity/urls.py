"""Pages of fidelity and adaptation, under /p/<programme>/."""

from django.urls import path

from spreadscale.web.fidelity import views

app_name = "fidelity"
urlpatterns = [
    path("fidelity/", views.overview, name="overview"),
    path("sites/<int:site_id>/fidelity/", views.site_fidelity, name="site_fidelity"),
    path(
        "sites/<int:site_id>/fidelity/<int:pk>/correct/",
        views.assessment_correct,
        name="assessment_correct",
    ),
    path("sites/<int:site_id>/phase-gated/", views.move_phase, name="move_phase"),
    path("adaptations/", views.adaptation_list, name="adaptation_list"),
    path("adaptations/new/", views.adaptation_new, name="adaptation_new"),
    path("adaptations/<int:pk>/", views.adaptation_detail, name="adaptation_detail"),
    path("adaptations/<int:pk>/edit/", views.adaptation_edit, name="adaptation_edit"),
    path("adaptations/<int:pk>/publish/", views.adaptation_publish, name="adaptation_publish"),
    path("adaptations/<int:pk>/adopt/", views.adaptation_adopt, name="adaptation_adopt"),
    path("stage-gates/", views.stage_gates, name="stage_gates"),
    path("components/", views.components, name="components"),
    path("components/<int:pk>/edit/", views.components, name="component_edit"),
    path(
        "components/<int:pk>/retire/",
        views.component_state,
        {"change": "retire"},
        name="component_retire",
    ),
    path(
        "components/<int:pk>/restore/",
        views.component_state,
        {"change": "restore"},
        name="component_restore",
    ),
    path(
        "components/<int:pk>/delete/",
        views.component_state,
        {"change": "delete"},
        name="component_delete",
    ),
]
