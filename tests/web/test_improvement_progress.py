"""Team progress scores: who rates what, the scale, side-by-side rows and the distribution."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from spreadscale.web.improvement import actions
from spreadscale.web.improvement.models import ProgressScore
from spreadscale.web.improvement.selectors import score_months
from spreadscale.web.permissions import access_for

URL = reverse("progress_scores", kwargs={"slug": "clabsi"})


def _post(client, site_id, rater, score="3.0", month="2030-06", **extra):
    data = {"site": site_id, "month": month, "rater": rater, "score": score, **extra}
    return client.post(URL, data)


@pytest.mark.parametrize(
    "persona,site_code,rater,status",
    [
        ("site_a", "RA1-GICU", "team", 302),
        ("member_a", "RA1-GICU", "team", 302),
        ("site_a", "RA1-GICU", "facilitator", 422),  # not offered: a team cannot rate as faculty
        ("facilitator", "RB1-GICU", "facilitator", 302),
        ("facilitator", "RB1-GICU", "team", 422),
        ("facilitator", "RA1-GICU", "facilitator", 422),
        ("lead", "RC1-GICU", "facilitator", 302),
        ("evaluator", "RA1-GICU", "team", 403),
        ("patient", "RA1-GICU", "team", 403),
        ("outsider", "RA1-GICU", "team", 404),
    ],
)
def test_the_team_and_the_facilitator_each_enter_their_own_score(
    persona, site_code, rater, status, client_for, site
):
    assert _post(client_for(persona), site(site_code).pk, rater).status_code == status


def test_a_score_off_the_scale_is_refused_naming_the_field(programme, user, site):
    with pytest.raises(ValidationError) as exc:
        actions.record_progress_score(
            user("site_a"),
            programme,
            site=site("RA1-GICU"),
            month=date(2026, 6, 1),
            rater="team",
            score="3.2",
        )
    assert "score" in exc.value.message_dict


def test_entering_a_month_again_replaces_the_score_and_a_stale_one_is_refused(
    programme, user, site
):
    first = actions.record_progress_score(
        user("site_a"),
        programme,
        site=site("RA1-GICU"),
        month=date(2026, 6, 15),
        rater="team",
        score="2.5",
    )
    assert first.month == date(2026, 6, 1)
    again = actions.record_progress_score(
        user("site_a"), programme, site=site("RA1-GICU"), month=date(2026, 6, 1), rater="team", score="3.5",
        expected_version=first.version,
    )  # fmt: skip
    assert again.pk == first.pk and again.score == Decimal("3.5")
    with pytest.raises(ValidationError):
        actions.record_progress_score(
            user("member_a"), programme, site=site("RA1-GICU"), month=date(2026, 6, 1), rater="team",
            score="4.0", expected_version=first.version,
        )  # fmt: skip


def test_the_demo_scores_follow_the_phases_and_show_the_gap(programme, user, site):
    rows, distribution = score_months(access_for(user("lead"), programme), site("RA1-GICU").pk)
    assert {r["site"].code for r in rows} == {"RA1-GICU"}
    assert rows[-1]["facilitator"].score <= Decimal("2.0")  # newest first: the oldest is last
    assert rows[0]["facilitator"].score >= Decimal("4.0")
    assert distribution[0]["facilitator"]["sites"] == 24  # the distribution stays programme-wide
    assert any(r["gap"] and r["gap"] > 0 for r in rows)  # teams sometimes rate themselves higher


def test_the_distribution_covers_every_site_but_rows_only_readable_ones(programme, user, site):
    rows, distribution = score_months(access_for(user("site_a"), programme))
    assert {r["site"].code for r in rows} == {"RA1-GICU"}
    last = distribution[0]
    assert last["facilitator"]["sites"] == 24 and sum(last["facilitator"]["counts"]) == 24


def test_scores_are_recorded_as_events(programme, user, site):
    score = ProgressScore.objects.filter(site=site("RB1-GICU"), rater="facilitator").first()
    from spreadscale.web.core.models import Event

    assert Event.objects.filter(verb="progress_score.recorded", object_id=str(score.pk)).exists()


def test_the_form_does_not_overwrite_a_score_someone_else_entered_for_that_month(client_for, site):
    unit = site("RA1-GICU")
    assert _post(client_for("site_a"), unit.pk, "team", score="3.0").status_code == 302
    # A colleague, with the form opened before that score existed, enters the same month.
    late = _post(client_for("member_a"), unit.pk, "team", score="1.5")
    assert late.status_code == 422
    assert "changed by someone else" in late.content.decode()
    score = ProgressScore.objects.get(site=unit, month=date(2030, 6, 1), rater="team")
    assert score.score == Decimal("3.0") and score.entered_by.username == "site"


def test_correcting_a_score_sends_the_version_read_and_a_stale_correction_is_refused(
    client_for, site
):
    unit = site("RA1-GICU")
    _post(client_for("site_a"), unit.pk, "team", score="3.0")
    score = ProgressScore.objects.get(site=unit, month=date(2030, 6, 1), rater="team")
    page = client_for("member_a").get(f"{URL}?correct={score.pk}")
    form = page.context["form"]
    assert form["version"].value() == score.version and form["score"].value() == "3.0"
    assert f'?correct={score.pk}"' in page.content.decode()
    fixed = _post(client_for("member_a"), unit.pk, "team", score="3.5", version=score.version)
    assert fixed.status_code == 302
    stale = _post(client_for("site_a"), unit.pk, "team", score="4.0", version=score.version)
    assert stale.status_code == 422 and "changed by someone else" in stale.content.decode()
    score.refresh_from_db()
    assert score.score == Decimal("3.5")


def test_only_a_rater_of_the_score_gets_it_to_correct(client_for, site):
    score = ProgressScore.objects.filter(site=site("RA1-GICU"), rater="facilitator").first()
    page = client_for("site_a").get(f"{URL}?correct={score.pk}")
    assert page.context["form"]["version"].value() is None
    assert f'?correct={score.pk}"' not in page.content.decode()
