from django.urls import path

from spreadscale.web.improvement import views

urlpatterns = [
    path("improvement/", views.driver_diagram, name="driver_diagram"),
    path("improvement/diagram.svg", views.driver_diagram_svg, name="driver_diagram_svg"),
    path("improvement/nodes/", views.node_save, name="node_add"),
    path("improvement/nodes/<int:node_id>/", views.node_save, name="node_edit"),
    path("ideas/", views.change_package, name="change_package"),
    path("ideas/<int:idea_id>/", views.idea_detail, name="idea_detail"),
    path("ideas/<int:idea_id>/edit/", views.idea_edit, name="idea_edit"),
    path("cycles/new/", views.pdsa_new, name="pdsa_new"),
    path("cycles/<int:cycle_id>/", views.pdsa_detail, name="pdsa_detail"),
    path("progress/", views.progress, name="progress_scores"),
]
