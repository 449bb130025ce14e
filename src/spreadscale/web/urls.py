from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from spreadscale.web.api import api
from spreadscale.web.core import views as core
from spreadscale.web.measurement import urls as measurement_urls
from spreadscale.web.measurement import views as measurement

urlpatterns = [
    path("", core.programme_list, name="programme_list"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("p/<slug:slug>/", core.programme_overview, name="programme_overview"),
    path("p/<slug:slug>/sites/<int:site_id>/", core.site_detail, name="site_detail"),
    path(
        "p/<slug:slug>/measures/<slug:measure_slug>/",
        measurement.measure_detail,
        name="measure_detail",
    ),
    path("p/<slug:slug>/", include("spreadscale.web.fidelity.urls")),
    path("p/<slug:slug>/", include(measurement_urls)),
    path("p/<slug:slug>/", include("spreadscale.web.improvement.urls")),
    path("account/tokens/", core.api_tokens, name="api_tokens"),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
