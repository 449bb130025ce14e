"""Bad input to the engine is a SpcInputError naming row, field and group, never a crash."""

from __future__ import annotations

import numpy as np
import pytest

from spreadscale.analytics.spc import SpcInputError, spc, spc_batch


def problems(**kwargs: object) -> list[tuple[int | None, str, str]]:
    with pytest.raises(SpcInputError) as info:
        spc_batch(**kwargs)  # type: ignore[arg-type]
    return info.value.problems


@pytest.mark.parametrize("chart", ["run", "i", "p"])
def test_no_rows_at_all_is_an_input_error(chart: str) -> None:
    n = [] if chart == "p" else None
    ((row, field, msg),) = problems(y=[], n=n, chart=chart)
    assert (row, field) == (None, "y") and "no rows" in msg


def test_every_x_missing_is_an_input_error() -> None:
    ((row, field, msg),) = problems(y=[1.0, 2.0, 3.0], x=[np.nan] * 3, chart="run")
    assert (row, field) == (None, "x") and "missing x" in msg
    ((_, field, _),) = problems(y=[1.0, 2.0], x=np.array([None, None], dtype=object),
                                chart="i")
    assert field == "x"


def test_every_y_missing_names_the_group() -> None:
    ((row, field, msg),) = problems(y=[np.nan, np.nan], group=["ward 7", "ward 7"], chart="run")
    assert (row, field) == (0, "y") and "group 'ward 7' has 0 usable" in msg


@pytest.mark.parametrize("field", ["y", "n"])
def test_an_infinite_value_is_an_error_naming_its_row(field: str) -> None:
    y = [3.0, 4.0, 5.0, 2.0]
    n = [10.0, 10.0, 10.0, 10.0]
    (y if field == "y" else n)[2] = np.inf
    ((row, fld, msg),) = problems(y=y, n=n, chart="u")
    assert (row, fld) == (2, field) and "infinite" in msg
    if field == "y":
        ((row, fld, _),) = problems(y=[1.0, -np.inf, 2.0], chart="i")
        assert (row, fld) == (1, "y")


def test_an_infinite_x_is_an_error_not_a_missing_x() -> None:
    ((row, field, msg),) = problems(y=[1.0, 2.0, 3.0], x=[1.0, np.inf, 3.0], chart="i")
    assert (row, field) == (1, "x") and "infinite" in msg


def test_too_few_points_names_the_group_label_not_its_index() -> None:
    ((row, _, msg),) = problems(y=[3.0, 4.0, 5.0], group=["north", "north", "south"], chart="i")
    assert row == 2 and "group 'south'" in msg and "group 1" not in msg
    # Integer codes with names (a factorised column): the name is used.
    ((_, _, msg),) = problems(y=[3.0, 4.0, 5.0], group=[0, 0, 1], chart="i",
                              group_names=["north", "south"])
    assert "group 'south'" in msg


def test_a_single_series_is_called_the_series() -> None:
    with pytest.raises(SpcInputError, match="the series has 1 usable"):
        spc([3.0], chart="i")


@pytest.mark.parametrize("chart", ["xbar", "s"])
def test_xbar_and_s_on_one_row_per_x_are_errors_naming_the_group(chart: str) -> None:
    ((row, field, msg),) = problems(y=[3.0, 4.0, 5.0, 4.0], x=[1, 2, 3, 4],
                                    group=["theatre A"] * 4, chart=chart)
    assert (row, field) == (0, "y")
    assert "group 'theatre A'" in msg and "subgroup of 2 or more" in msg


@pytest.mark.parametrize("chart", ["xbar", "s"])
def test_pre_aggregated_subgroups_of_one_are_errors_too(chart: str) -> None:
    with pytest.raises(SpcInputError, match="subgroup of 2 or more"):
        spc_batch([3.0, 4.0], x=[1, 2], n=[1, 1], sd=[0.0, 0.0], chart=chart)


def test_xbar_accepts_a_group_where_only_some_subgroups_have_one_value() -> None:
    r = spc_batch([3.0, 4.0, 5.0, 6.0, 5.5], x=[1, 1, 2, 2, 3], chart="xbar")
    assert r.points["n"].tolist() == [2.0, 2.0, 1.0]
    assert np.isfinite(r.points["ucl"][:2]).all()


@pytest.mark.parametrize(("option", "value"), [("freeze", 6), ("exclude", [2, 6]),
                                               ("part", 5), ("part", [2, 7])])
def test_positions_beyond_a_group_are_errors_naming_group_and_option(
        option: str, value: object) -> None:
    y = [1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0, 2.0]
    group = ["long"] * 5 + ["short"] * 5
    got = problems(y=y, group=group, chart="i", **{option: value})
    # Both groups have 5 points: position 6 (7) is beyond them, part 5 starts nothing.
    assert {p[1] for p in got} == {option}
    assert any("group 'long'" in p[2] for p in got)
    assert any("group 'short'" in p[2] for p in got)


def test_positions_inside_every_group_are_accepted() -> None:
    y = [1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0, 2.0]
    r = spc_batch(y, group=[0] * 5 + [1] * 5, chart="i", freeze=5, exclude=[5], part=[2])
    assert r.summary["part"].tolist() == [1, 2, 1, 2]


def test_positions_start_at_one() -> None:
    for option in ("freeze", "exclude", "part"):
        ((_, field, msg),) = problems(y=[1.0, 2.0, 3.0], chart="i", **{option: 0})
        assert field == option and "start at 1" in msg
