"""Shared fixtures: the demo programme loaded once per test database, and named personas.

Personas (all from the demo programme, password "demo"):
- lead: programme lead
- facilitator: facilitator for the Midlands region (RB), i.e. its eight units
- site_a: site lead of RA1-GICU (the demo's "site" login)
- site_b: site lead of RB1-GICU
- member_a: site team member at RA1-GICU
- patient: patient partner at RA1-GICU
- evaluator: evaluator
- viewer: viewer
- outsider: signed in, member of nothing
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from spreadscale.demo.load import load_demo
from spreadscale.web.core import actions
from spreadscale.web.core.models import Programme, Role, Site

EXTRA_PERSONAS = [
    ("site_b", Role.SITE_LEAD, "RB1-GICU"),
    ("member_a", Role.SITE_MEMBER, "RA1-GICU"),
    ("viewer", Role.VIEWER, None),
]
PERSONA_USERNAMES = {
    "lead": "lead",
    "facilitator": "facilitator",
    "site_a": "site",
    "site_b": "site_b",
    "member_a": "member_a",
    "patient": "patient",
    "evaluator": "evaluator",
    "viewer": "viewer",
    "outsider": "outsider",
}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        programme = load_demo()
        User = get_user_model()
        for username, role, site_code in EXTRA_PERSONAS:
            user = User.objects.create_user(username, password="demo")
            site = Site.objects.get(code=site_code) if site_code else None
            actions.add_membership(None, user, programme, role, site)
        User.objects.create_user("outsider", password="demo")


@pytest.fixture
def programme(db) -> Programme:
    return Programme.objects.get(slug="clabsi")


@pytest.fixture
def user(db):
    def get(persona: str):
        return get_user_model().objects.get(username=PERSONA_USERNAMES[persona])

    return get


@pytest.fixture
def client_for(db):
    """A signed-in test client for a persona: client_for("lead")."""

    def make(persona: str) -> Client:
        client = Client()
        client.force_login(get_user_model().objects.get(username=PERSONA_USERNAMES[persona]))
        return client

    return make


@pytest.fixture
def site(db):
    def get(code: str) -> Site:
        return Site.objects.get(code=code)

    return get
