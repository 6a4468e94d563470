"""Chart geometry (pure): columns and bars sized by their values, ``None`` drawn as nothing."""

from __future__ import annotations

import itertools

import pytest

from parkshare.web.charts import bar_chart, column_chart, nice_maximum, value_text

HOURS = [f"{hour:02d}" for hour in range(24)]


def test_a_column_is_as_tall_as_its_share_of_the_maximum() -> None:
    chart = column_chart([100.0, 50.0, 0.0, 25.0], ["a", "b", "c", "d"], maximum=100)
    full, half, empty, quarter = chart.columns
    plot = chart.bottom - chart.top
    assert (full.height, full.y) == (pytest.approx(plot), pytest.approx(chart.top))
    assert half.height == pytest.approx(plot / 2)
    assert half.y + half.height == pytest.approx(chart.bottom)
    assert (empty.height, empty.y) == (0, pytest.approx(chart.bottom))
    assert quarter.height == pytest.approx(plot / 4)


def test_values_outside_the_scale_are_clamped_to_the_plot() -> None:
    chart = column_chart([180.0, -20.0], ["over", "under"], maximum=100)
    over, under = chart.columns
    assert over.y == pytest.approx(chart.top) and under.height == 0


def test_a_missing_value_draws_no_column_and_reads_as_a_dash() -> None:
    chart = column_chart([None, 0.0], ["08", "09"])
    missing, zero = chart.columns
    assert missing.empty and missing.height == 0 and missing.title == "08 —"
    assert not zero.empty and zero.title == "09 0.0%"


def test_24_hour_columns_fill_the_plot_side_by_side_without_overlapping() -> None:
    chart = column_chart([float(h) for h in range(24)], HOURS)
    columns = chart.columns
    assert len(columns) == 24
    assert columns[0].x >= chart.left and columns[-1].x + columns[-1].width <= chart.right
    for left, right in itertools.pairwise(columns):
        assert left.x + left.width <= right.x
        assert left.width == pytest.approx(right.width)


def test_axis_labels_are_thinned_to_every_third_hour() -> None:
    chart = column_chart([1.0] * 24, HOURS, label_every=3)
    shown = [c.label for c in chart.columns if c.label]
    assert shown == ["00", "03", "06", "09", "12", "15", "18", "21"]
    assert chart.columns[1].label == "" and chart.columns[1].title.startswith("01 ")


def test_the_scale_runs_from_zero_at_the_bottom_to_the_maximum_at_the_top() -> None:
    chart = column_chart([10.0], ["x"], maximum=100, ticks=4)
    assert [t.label for t in chart.ticks] == ["0%", "25%", "50%", "75%", "100%"]
    assert chart.ticks[0].position == pytest.approx(chart.bottom)
    assert chart.ticks[-1].position == pytest.approx(chart.top)
    assert chart.view_box == "0 0 400 190"


def test_without_a_maximum_the_scale_ends_at_a_round_number_above_the_largest_value() -> None:
    chart = column_chart([3.2, None, 1.0], ["a", "b", "c"], maximum=None, unit="")
    assert chart.ticks[-1].label == "5"
    assert chart.columns[0].height == pytest.approx((chart.bottom - chart.top) * 3.2 / 5)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([3.2], 5), ([12.0], 20), ([0.4], 1), ([250.0], 250), ([None], 1), ([100.0], 100)],
)
def test_nice_maximum(values: list[float | None], expected: float) -> None:
    assert nice_maximum(values) == pytest.approx(expected)


def test_every_value_needs_a_label() -> None:
    with pytest.raises(ValueError, match="one label per value"):
        column_chart([1.0, 2.0], ["only one"])


def test_bars_are_stacked_rows_with_their_label_above_and_length_by_value() -> None:
    chart = bar_chart([("长江路街道", 86.5), ("滨海街道", 43.25), ("泊里镇", None)], width=400)
    first, second, missing = chart.bars
    assert (first.label, first.value) == ("长江路街道", "86.5%")
    assert first.width == pytest.approx(400 * 0.865)
    assert second.width == pytest.approx(400 * 0.4325)
    assert first.text_y < first.y < second.text_y < second.y  # label line, then its bar
    assert missing.empty and missing.width == 0 and missing.value == "—"
    assert chart.height >= missing.y + missing.height
    assert chart.track == 400 and chart.view_box == f"0 0 400 {chart.height:g}"


def test_an_empty_bar_chart_still_has_a_height() -> None:
    assert bar_chart([]).height > 0


def test_value_text() -> None:
    assert value_text(1234.56) == "1,234.6%"
    assert value_text(7.0, "", decimals=0) == "7"
    assert value_text(None) == "—"
