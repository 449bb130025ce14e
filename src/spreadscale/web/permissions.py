"""Who may see and change what: the one place for access rules.

Every view and API endpoint asks this module. A programme the user is not a member of does
not exist for them (404). Inside a programme, what a member may read or change depends on
their roles and the sites those roles are attached to (a role at a region or organisation
covers every site below it).

| role            | site data read           | private notes   | site data write | phase change | programme setup |
|-----------------|--------------------------|-----------------|-----------------|--------------|-----------------|
| lead            | all sites                | all             | all             | all          | yes             |
| evaluator       | all sites                | all             | no              | no           | no              |
| viewer          | all sites                | no              | no              | no           | no              |
| facilitator     | all sites                | assigned sites  | assigned sites  | assigned     | no              |
| site lead       | own sites                | own sites       | own sites       | own sites    | no              |
| site member     | own sites                | own sites       | own sites       | no           | no              |
| patient partner | own site (if one is set) | no              | no              | no           | no              |

Everyone in a programme reads its programme-level summaries: sites, phases, measures,
aggregates across sites. Adaptations a site publishes to the programme are read by every
member (the feedback loop); unpublished ones follow "site data read".
Team progress scores (IHI scale): the site lead or a site member enters the team's own; a
facilitator of the site, or the lead, enters the facilitator's.
Fidelity assessments are recorded and corrected under "site data write"; their evidence and notes,
and those of the versions a correction replaced, under "private notes".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from spreadscale.web.core.models import Enrolment, Membership, Programme, Role, Site

User = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class Access:
    """What one user may do in one programme."""

    programme: Programme
    roles: frozenset[str]
    # site ids (descendants included) reached through each site-scoped role
    sites_by_role: dict[str, frozenset[int]] = field(default_factory=dict)

    def _sites(self, *roles: str) -> frozenset[int]:
        out: set[int] = set()
        for role in roles:
            out |= self.sites_by_role.get(role, frozenset())
        return frozenset(out)

    @property
    def is_lead(self) -> bool:
        return Role.LEAD in self.roles

    @property
    def reads_all_sites(self) -> bool:
        return bool(self.roles & {Role.LEAD, Role.EVALUATOR, Role.VIEWER, Role.FACILITATOR})

    @property
    def can_manage_programme(self) -> bool:
        return self.is_lead

    def can_read_site(self, site_id: int) -> bool:
        return self.reads_all_sites or site_id in self._sites(
            Role.SITE_LEAD, Role.SITE_MEMBER, Role.PATIENT
        )

    def can_read_notes(self, site_id: int) -> bool:
        if self.roles & {Role.LEAD, Role.EVALUATOR}:
            return True
        return site_id in self._sites(Role.FACILITATOR, Role.SITE_LEAD, Role.SITE_MEMBER)

    def can_edit_site(self, site_id: int) -> bool:
        return self.is_lead or site_id in self._sites(
            Role.FACILITATOR, Role.SITE_LEAD, Role.SITE_MEMBER
        )

    def can_read_adaptation(self, site_id: int, published: bool) -> bool:
        """Published adaptations are shared with every member; others stay with the site."""
        return published or self.can_read_site(site_id)

    def can_change_phase(self, site_id: int) -> bool:
        return self.is_lead or site_id in self._sites(Role.FACILITATOR, Role.SITE_LEAD)

    def can_rate_progress(self, site_id: int, rater: str) -> bool:
        """The team rates itself; its facilitator (or the lead) gives the faculty's rating."""
        if rater == "team":
            return site_id in self._sites(Role.SITE_LEAD, Role.SITE_MEMBER)
        return rater == "facilitator" and (self.is_lead or site_id in self._sites(Role.FACILITATOR))

    def readable_site_filter(self, field_name: str = "site_id") -> Q:
        """A filter that keeps only rows of sites whose data this user may read."""
        if self.reads_all_sites:
            return Q()
        return Q(
            **{f"{field_name}__in": self._sites(Role.SITE_LEAD, Role.SITE_MEMBER, Role.PATIENT)}
        )

    def editable_site_ids(self, enrolled: Iterable[int]) -> list[int]:
        return [site_id for site_id in enrolled if self.can_edit_site(site_id)]

    def require(self, allowed: bool) -> None:
        if not allowed:
            raise PermissionDenied("Your role in this programme does not allow this.")


def programmes_for(user: User) -> QuerySet[Programme]:
    if not user.is_authenticated:
        return Programme.objects.none()
    return Programme.objects.filter(memberships__user=user).distinct()


def access_for(user: User, programme: Programme | str) -> Access:
    """The user's access to a programme (given or by slug); 404 if they are not a member."""
    if not user.is_authenticated:
        raise Http404("No such programme.")
    if isinstance(programme, str):
        try:
            programme = Programme.objects.get(slug=programme)
        except Programme.DoesNotExist:
            raise Http404("No such programme.") from None
    rows = list(
        Membership.objects.filter(user=user, programme=programme).values_list(
            "role", "site_id", "site__path"
        )
    )
    if not rows:
        raise Http404("No such programme.")
    roles = frozenset(role for role, _, _ in rows)
    scoped: dict[str, list[str]] = {}
    for role, site_id, path in rows:
        if site_id is not None:
            scoped.setdefault(role, []).append(path)
    sites_by_role: dict[str, frozenset[int]] = {}
    if scoped:
        all_paths = {p for paths in scoped.values() for p in paths}
        query = Q()
        for p in all_paths:
            query |= Q(path__startswith=p)
        site_paths = list(Site.objects.filter(query).values_list("id", "path"))
        for role, paths in scoped.items():
            sites_by_role[role] = frozenset(
                sid for sid, spath in site_paths if any(spath.startswith(p) for p in paths)
            )
    return Access(programme=programme, roles=roles, sites_by_role=sites_by_role)


def enrolment_for(access: Access, site_id: int) -> Enrolment:
    """The site's enrolment in the programme; 404 for a site outside it."""
    try:
        return Enrolment.objects.select_related("site").get(
            programme=access.programme, site_id=site_id
        )
    except Enrolment.DoesNotExist:
        raise Http404("That site is not part of this programme.") from None
