"""API: programmes and their sites."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from ninja import Router, Schema

from spreadscale.web import permissions
from spreadscale.web.core import selectors

router = Router(tags=["programmes"])


class ProgrammeOut(Schema):
    slug: str
    name: str
    aim: str
    start_date: date | None
    end_date: date | None
    roles: list[str]


class SiteOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    region: str | None
    organisation: str | None
    phase: str
    phase_since: date | None
    wave: str
    data_visible: bool


@router.get("/programmes", response=list[ProgrammeOut])
def list_programmes(request: HttpRequest):
    out = []
    for programme in permissions.programmes_for(request.user):
        access = permissions.access_for(request.user, programme)
        out.append(_programme(access))
    return out


def _programme(access: permissions.Access) -> dict:
    p = access.programme
    return {
        "slug": p.slug,
        "name": p.name,
        "aim": p.aim,
        "start_date": p.start_date,
        "end_date": p.end_date,
        "roles": sorted(access.roles),
    }


@router.get("/programmes/{slug}", response=ProgrammeOut)
def get_programme(request: HttpRequest, slug: str):
    return _programme(permissions.access_for(request.user, slug))


@router.get("/programmes/{slug}/sites", response=list[SiteOut])
def list_sites(request: HttpRequest, slug: str):
    access = permissions.access_for(request.user, slug)
    return [
        {
            "id": r.enrolment.site_id,
            "code": r.enrolment.site.code,
            "name": r.enrolment.site.name,
            "kind": r.enrolment.site.kind,
            "region": r.region.code if r.region else None,
            "organisation": r.organisation.code if r.organisation else None,
            "phase": r.enrolment.phase,
            "phase_since": r.enrolment.phase_since,
            "wave": r.enrolment.wave,
            "data_visible": access.can_read_site(r.enrolment.site_id),
        }
        for r in selectors.site_rows(access.programme)
    ]
