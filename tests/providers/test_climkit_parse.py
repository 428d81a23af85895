"""Reading rows (`row_values`, as quarter-hour intervals) on the real 2022 capture, simulator
rows and hand-made rows.

Ground truth: /work/shared/docs/climkit.md §2.5 (row schema, identities, negative production,
end-of-interval stamps), §6.6-§6.7 (parsing, snapping |v| < 1e-9). Every figure is kept as
Climkit gives it (negative night-time production too); only a figure whose key a row lacks is
derived.
"""

import itertools
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from custom_components.linky_climkit.model import Channel, Interval
from custom_components.linky_climkit.providers.climkit import ClimkitClient, Pacer
from custom_components.linky_climkit.providers.climkit_model import MeterInfo
from custom_components.linky_climkit.providers.climkit_parse import (
    QUARTER,
    SNAP,
    ParsedRows,
    channel_of_type,
    exposed_meters,
    parse_timestamp,
    row_values,
)
from custom_components.linky_climkit.providers.errors import InvalidResponseError
from tests.simulators.climkit import (
    CAPTURE_METER_INFO_FILE,
    CAPTURE_SITE_ID,
    DEMO_SITE_ID,
    FIXTURES_DIR,
    ClimkitSimulator,
    MeterSpec,
    capture_rows,
    demo_site,
)

ZURICH = ZoneInfo("Europe/Zurich")
INTRO = "61dfca85eba4e3564021f36d"  # prim_ad 10
PV = "61dfca85eba4e3564021f36f"  # prim_ad 101
CONSUMERS = [
    "61dfcb4beba4e3563fdf3d9f",
    "61dfcb80eba4e3563fdf3da2",
    "61dfcb8ceba4e3564021f374",
    "61dfcb97eba4e3564021f377",
]
SITE_CHANNELS = (
    Channel.CONSUMPTION,
    Channel.PRODUCTION,
    Channel.SELF_CONSUMPTION,
    Channel.GRID_IMPORT,
    Channel.GRID_EXPORT,
    Channel.BATTERY_CHARGE,
    Channel.BATTERY_DISCHARGE,
)
CONSUMER_CHANNELS = (Channel.CONSUMPTION, Channel.SELF_CONSUMPTION, Channel.GRID_IMPORT)
FIRST_END = datetime(2022, 5, 13, 22, 0, tzinfo=UTC)  # "2022-05-14 00:00:00+02:00"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override tests/conftest.py's autouse fixture: no Home Assistant instance is needed."""


def capture_meters() -> list[MeterInfo]:
    """meter_info_2022.json read the way ClimkitClient.meter_info reads it."""
    raw = json.loads((FIXTURES_DIR / CAPTURE_METER_INFO_FILE).read_text(encoding="utf-8"))
    return [
        MeterInfo(
            item["id"], item["type"], int(item["prim_ad"]), None, None, False, item["virtual"]
        )
        for item in raw
    ]


@dataclass(slots=True)
class Parsed(ParsedRows):
    """The quality counts and every quarter-hour as an interval, per (owner, channel)."""

    intervals: dict[tuple[str, Channel], list[Interval]] = field(
        default_factory=lambda: defaultdict(list)
    )


def parse_site_rows(
    rows: Sequence[dict[str, Any]],
    *,
    site_id: str,
    meter_type: str,
    meters: Sequence[MeterInfo],
    tz: ZoneInfo,
) -> Parsed:
    """Rows of one meter type as quarter-hour intervals (the ground the hourly adapter sums)."""
    parsed = Parsed()
    for end, values in row_values(
        rows, site_id=site_id, meter_type=meter_type, meters=meters, tz=tz, parsed=parsed
    ):
        for key, value in values.items():
            parsed.intervals[key].append(Interval(end - QUARTER, end, value))
    return parsed


def parse(
    rows: list[dict[str, Any]],
    meters: list[MeterInfo] | None = None,
    *,
    meter_type: str = "electricity",
    site_id: str = CAPTURE_SITE_ID,
    tz: ZoneInfo = ZURICH,
) -> Parsed:
    return parse_site_rows(
        rows,
        site_id=site_id,
        meter_type=meter_type,
        meters=capture_meters() if meters is None else meters,
        tz=tz,
    )


def values(parsed: Parsed, owner: str, channel: Channel) -> list[float]:
    return [i.value for i in parsed.intervals[(owner, channel)]]


def ends(parsed: Parsed, owner: str, channel: Channel) -> list[datetime]:
    return [i.end for i in parsed.intervals[(owner, channel)]]


def snapped(value: float) -> float:
    return 0.0 if abs(value) < SNAP else value


def meter_infos(specs: list[MeterSpec]) -> list[MeterInfo]:
    return [
        MeterInfo(m.id, m.type, m.prim_ad, m.name, m.mode, m.is_rule_meter, False) for m in specs
    ]


def sim_rows(site: Any, meter_type: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Rows as the simulator serves them (ground-truth helper, no HTTP)."""
    sim = ClimkitSimulator([site])
    out = []
    for row in sim.interval_values(site.id, meter_type, start, end):
        stamp = row.pop("end")
        out.append({**row, "timestamp": stamp.isoformat(sep=" ")})
    return out


# --- the real capture ------------------------------------------------------------------------


async def test_capture_meters_match_the_client() -> None:
    raw = json.loads((FIXTURES_DIR / CAPTURE_METER_INFO_FILE).read_text(encoding="utf-8"))
    client = ClimkitClient(None, "u", "p", pacer=Pacer(0), user_agent="t")  # type: ignore[arg-type]

    async def fake(method: str, path: str, body: Any = None) -> Any:
        return raw

    client._request = fake  # type: ignore[method-assign]
    assert await client.meter_info(CAPTURE_SITE_ID) == capture_meters()


def test_capture_intervals_and_owners() -> None:
    rows = capture_rows()
    parsed = parse(rows)

    expected_keys = {(CAPTURE_SITE_ID, ch) for ch in SITE_CHANNELS}
    expected_keys |= {(c, ch) for c in CONSUMERS for ch in CONSUMER_CHANNELS}
    expected_keys |= {(PV, Channel.PRODUCTION)}
    assert set(parsed.intervals) == expected_keys  # no introduction meter, producer: production
    assert not any(owner == INTRO for owner, _ in parsed.intervals)

    stamps = [datetime.fromisoformat(r["timestamp"]).astimezone(UTC) for r in rows]
    assert stamps[0] == FIRST_END
    for key, intervals in parsed.intervals.items():
        assert len(intervals) == 96, key
        assert [i.end for i in intervals] == stamps
        for interval in intervals:
            assert interval.start == interval.end - timedelta(minutes=15)
            assert interval.start.tzinfo is UTC
            assert interval.end.tzinfo is UTC
    assert parsed.last_end == FIRST_END + 95 * QUARTER
    assert parsed.missing == 0
    assert parsed.storage_seen is False
    assert set(values(parsed, CAPTURE_SITE_ID, Channel.BATTERY_CHARGE)) == {0.0}
    assert set(values(parsed, CAPTURE_SITE_ID, Channel.BATTERY_DISCHARGE)) == {0.0}


SITE_KEYS = {
    Channel.CONSUMPTION: "conso_total",
    Channel.PRODUCTION: "prod_total",
    Channel.SELF_CONSUMPTION: "self",
    Channel.GRID_IMPORT: "from_ext",
    Channel.GRID_EXPORT: "to_ext",
    Channel.BATTERY_CHARGE: "storage_charging_total",
    Channel.BATTERY_DISCHARGE: "storage_discharging_total",
}


def test_capture_site_figures_as_given() -> None:
    """Every site figure is the row's own (grid import is `from_ext`, not consumption minus
    self-consumption); Climkit's identities hold on them as they do in the capture."""
    rows = capture_rows()
    parsed = parse(rows)
    site = CAPTURE_SITE_ID

    series = {ch: values(parsed, site, ch) for ch in SITE_CHANNELS}
    for i, row in enumerate(rows):
        for channel, key in SITE_KEYS.items():
            assert series[channel][i] == snapped(row[key]), (i, key)
        conso = series[Channel.CONSUMPTION][i]
        prod = series[Channel.PRODUCTION][i]
        own = series[Channel.SELF_CONSUMPTION][i]
        assert conso == pytest.approx(own + series[Channel.GRID_IMPORT][i], abs=1e-9)
        assert prod == pytest.approx(own + series[Channel.GRID_EXPORT][i], abs=1e-9)
        assert conso == pytest.approx(
            sum(values(parsed, c, Channel.CONSUMPTION)[i] for c in CONSUMERS), abs=1e-9
        )
        assert prod == values(parsed, PV, Channel.PRODUCTION)[i]


def test_capture_negative_production_kept_and_counted() -> None:
    rows = capture_rows()
    parsed = parse(rows)
    # negative production beyond float noise (|v| < 1e-9 is snapped to 0 first, §6.7)
    negative = [r for r in rows if r["prod_total"] < -SNAP]
    assert parsed.negative == len(negative) == 30
    noise = [r for r in rows if -SNAP < r["prod_total"] < 0]
    assert len(noise) == 22  # e.g. -1.1e-16: not counted
    given = {
        datetime.fromisoformat(r["timestamp"]).astimezone(UTC): r["prod_total"] for r in negative
    }
    site = {i.end: i.value for i in parsed.intervals[(CAPTURE_SITE_ID, Channel.PRODUCTION)]}
    own = {i.end: i.value for i in parsed.intervals[(CAPTURE_SITE_ID, Channel.SELF_CONSUMPTION)]}
    pv = {i.end: i.value for i in parsed.intervals[(PV, Channel.PRODUCTION)]}
    for end, value in given.items():
        assert site[end] == value < 0
        assert own[end] == value  # Climkit's self-consumption follows it at night
        assert pv[end] == value


def test_capture_per_consumer_values() -> None:
    rows = capture_rows()
    parsed = parse(rows)
    for c in CONSUMERS:
        conso = values(parsed, c, Channel.CONSUMPTION)
        own = values(parsed, c, Channel.SELF_CONSUMPTION)
        grid = values(parsed, c, Channel.GRID_IMPORT)
        for i, row in enumerate(rows):
            assert conso[i] == snapped(row[f"total_{c}"])
            assert own[i] == snapped(row[f"self_{c}"])
            assert grid[i] == snapped(row[f"ext_{c}"])
            assert conso[i] == pytest.approx(own[i] + grid[i], abs=1e-9)
    pv = values(parsed, PV, Channel.PRODUCTION)
    assert pv == [snapped(r[f"total_{PV}"]) for r in rows]


# --- missing values, duplicates, timestamps --------------------------------------------------


def test_null_rows_are_counted_missing_and_skipped() -> None:
    rows = capture_rows()
    nulled = {1, 5, 9, 50, 95}
    broken = [
        {k: (v if k == "timestamp" else None) for k, v in row.items()} if i in nulled else row
        for i, row in enumerate(rows)
    ]
    parsed = parse(broken)

    assert parsed.missing == len(nulled)
    kept = [FIRST_END + i * QUARTER for i in range(96) if i not in nulled]
    for key, intervals in parsed.intervals.items():
        assert [i.end for i in intervals] == kept, key
    assert parsed.last_end == FIRST_END + 94 * QUARTER  # row 95 is null


@pytest.mark.parametrize(
    ("key", "bad"),
    [
        ("conso_total", None),
        ("prod_total", None),
        ("self", None),
        ("self", True),
        ("prod_total", "n/a"),
        ("conso_total", float("nan")),
        ("conso_total", float("inf")),
        ("prod_total", [0.1]),
        ("conso_total", {"v": 1}),
    ],
)
def test_unusable_site_value_is_missing(key: str, bad: Any) -> None:
    """Only that figure's quarter is missing; the row's other figures are kept."""
    rows = capture_rows()[:4]
    rows[2] = {**rows[2], key: bad}
    parsed = parse(rows)
    assert parsed.missing == 1
    for channel, name in SITE_KEYS.items():
        kept = (0, 1, 3) if name == key else (0, 1, 2, 3)
        assert ends(parsed, CAPTURE_SITE_ID, channel) == [FIRST_END + i * QUARTER for i in kept], (
            channel
        )


def test_absent_site_key_is_missing() -> None:
    rows = capture_rows()[:3]
    rows[1] = {k: v for k, v in rows[1].items() if k != "self"}
    parsed = parse(rows)
    assert parsed.missing == 1
    assert len(ends(parsed, CAPTURE_SITE_ID, Channel.SELF_CONSUMPTION)) == 2
    assert len(ends(parsed, CAPTURE_SITE_ID, Channel.GRID_IMPORT)) == 3  # from_ext is given


def test_given_grid_figures_are_never_recomputed() -> None:
    """`from_ext`/`to_ext`/`ext_<id>` win over consumption − self-consumption, even when
    they disagree with it; a null one is missing, not derived."""
    row = {
        "timestamp": "2022-05-14 00:00:00+02:00",
        "conso_total": 1.0,
        "prod_total": -0.02,
        "self": -0.02,
        "from_ext": 1.5,
        "to_ext": 0.0,
        f"total_{CONSUMERS[0]}": 1.0,
        f"self_{CONSUMERS[0]}": 0.0,
        f"ext_{CONSUMERS[0]}": 0.75,
        f"total_{CONSUMERS[1]}": 0.5,
        f"self_{CONSUMERS[1]}": 0.1,
        f"ext_{CONSUMERS[1]}": None,
    }
    parsed = parse([row])
    assert values(parsed, CAPTURE_SITE_ID, Channel.GRID_IMPORT) == [1.5]
    assert values(parsed, CAPTURE_SITE_ID, Channel.GRID_EXPORT) == [0.0]
    assert values(parsed, CAPTURE_SITE_ID, Channel.PRODUCTION) == [-0.02]
    assert values(parsed, CAPTURE_SITE_ID, Channel.SELF_CONSUMPTION) == [-0.02]
    assert values(parsed, CONSUMERS[0], Channel.GRID_IMPORT) == [0.75]
    assert values(parsed, CONSUMERS[1], Channel.GRID_IMPORT) == []
    assert values(parsed, CONSUMERS[1], Channel.CONSUMPTION) == [0.5]
    assert parsed.negative == 1
    assert parsed.missing == 0


def test_numeric_strings_are_read() -> None:
    row = {
        "timestamp": "2022-05-14 00:00:00+02:00",
        "conso_total": "1.5",
        "prod_total": "0.5",
        "self": "0.25",
        f"total_{CONSUMERS[0]}": "1.5",
        f"self_{CONSUMERS[0]}": "0.25",
    }
    parsed = parse([row])
    assert values(parsed, CAPTURE_SITE_ID, Channel.CONSUMPTION) == [1.5]
    assert values(parsed, CAPTURE_SITE_ID, Channel.GRID_IMPORT) == [1.25]
    assert values(parsed, CAPTURE_SITE_ID, Channel.GRID_EXPORT) == [0.25]
    assert values(parsed, CONSUMERS[0], Channel.GRID_IMPORT) == [1.25]


def test_missing_meter_column_leaves_only_that_meter_incomplete() -> None:
    rows = capture_rows()[:4]
    rows[1] = {k: v for k, v in rows[1].items() if k != f"total_{CONSUMERS[2]}"}
    rows[2] = {**rows[2], f"total_{PV}": None}
    parsed = parse(rows)
    assert parsed.missing == 0
    assert len(ends(parsed, CAPTURE_SITE_ID, Channel.CONSUMPTION)) == 4
    assert len(ends(parsed, CONSUMERS[0], Channel.CONSUMPTION)) == 4
    assert ends(parsed, CONSUMERS[2], Channel.CONSUMPTION) == [
        FIRST_END + i * QUARTER for i in (0, 2, 3)
    ]
    assert ends(parsed, PV, Channel.PRODUCTION) == [FIRST_END + i * QUARTER for i in (0, 1, 3)]


def test_duplicate_timestamps_kept_once() -> None:
    rows = capture_rows()
    again = [{**row, "conso_total": 99.0} for row in rows[:10]]
    in_utc = datetime.fromisoformat(rows[20]["timestamp"]).astimezone(UTC).isoformat(sep=" ")
    assert in_utc == "2022-05-14 03:00:00+00:00"
    same_instant = {**rows[20], "timestamp": in_utc, "conso_total": 77.0}
    assert datetime.fromisoformat(same_instant["timestamp"]) == datetime.fromisoformat(
        rows[20]["timestamp"]
    )
    parsed = parse(rows + again + [same_instant])
    reference = parse(rows)
    assert parsed.intervals == reference.intervals  # first occurrence wins
    for intervals in parsed.intervals.values():
        assert len(intervals) == 96
        assert len({i.end for i in intervals}) == 96


def test_naive_timestamps_are_site_local() -> None:
    rows = capture_rows()
    naive = [{**row, "timestamp": row["timestamp"][:19]} for row in rows]
    assert naive[0]["timestamp"] == "2022-05-14 00:00:00"
    assert parse(naive).intervals == parse(rows).intervals
    in_utc = parse(naive, tz=ZoneInfo("UTC"))
    assert ends(in_utc, CAPTURE_SITE_ID, Channel.CONSUMPTION)[0] == FIRST_END + timedelta(hours=2)


@pytest.mark.parametrize("scale", [1, 1000], ids=["seconds", "milliseconds"])
def test_epoch_timestamps(scale: int) -> None:
    rows = capture_rows()
    epoch = [
        {**row, "timestamp": int(datetime.fromisoformat(row["timestamp"]).timestamp()) * scale}
        for row in rows
    ]
    assert parse(epoch).intervals == parse(rows).intervals


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2022-05-05 17:00:00+02:00", datetime(2022, 5, 5, 15, 0, tzinfo=UTC)),
        ("2022-05-05T17:00:00+02:00", datetime(2022, 5, 5, 15, 0, tzinfo=UTC)),
        ("2022-05-05 17:00:00", datetime(2022, 5, 5, 15, 0, tzinfo=UTC)),
        ("2022-01-05 17:00:00", datetime(2022, 1, 5, 16, 0, tzinfo=UTC)),
        ("2022-05-05T15:00:00Z", datetime(2022, 5, 5, 15, 0, tzinfo=UTC)),
        (1651762800, datetime(2022, 5, 5, 15, 0, tzinfo=UTC)),
        (1651762800000, datetime(2022, 5, 5, 15, 0, tzinfo=UTC)),
        (1651762800.0, datetime(2022, 5, 5, 15, 0, tzinfo=UTC)),
    ],
)
def test_parse_timestamp(raw: Any, expected: datetime) -> None:
    result = parse_timestamp(raw, ZURICH)
    assert result == expected
    assert result.utcoffset() == timedelta(0)


BAD_TIMESTAMPS = [
    "garbage",
    "",
    None,
    True,
    [],
    {},
    ["2022-05-14 00:00:00+02:00"],
    "2022-13-01 00:00:00",
    "14.05.2022 00:00",
    "2022-05-14 25:00:00+02:00",
]


@pytest.mark.parametrize("raw", BAD_TIMESTAMPS)
def test_bad_timestamps_are_invalid_response(raw: Any) -> None:
    rows = capture_rows()[:3]
    rows[1] = {**rows[1], "timestamp": raw}
    with pytest.raises(InvalidResponseError):
        parse(rows)
    with pytest.raises(InvalidResponseError):
        parse_timestamp(raw, ZURICH)


def test_row_without_timestamp_is_invalid_response() -> None:
    rows = capture_rows()[:2]
    rows[1] = {k: v for k, v in rows[1].items() if k != "timestamp"}
    with pytest.raises(InvalidResponseError):
        parse(rows)


@pytest.mark.parametrize("raw", [10**20, 1e300, -(10**16), float("nan"), float("inf")], ids=str)
def test_out_of_range_epoch_is_invalid_response(raw: Any) -> None:
    with pytest.raises(InvalidResponseError):
        parse_timestamp(raw, ZURICH)


@pytest.mark.parametrize(
    "raw", ["0001-01-01 00:00:00", "9999-12-31 23:59:59-05:00", "0001-01-01 00:00:00+00:00"]
)
def test_edge_of_range_timestamp_is_invalid_response(raw: str) -> None:
    row = {"timestamp": raw, "conso_total": 1.0, "prod_total": 0.0, "self": 0.0}
    with pytest.raises(InvalidResponseError):
        parse([row])


def test_huge_integer_value_is_unusable() -> None:
    row = {
        "timestamp": "2022-05-14 00:00:00+02:00",
        "conso_total": 10**400,
        "prod_total": 0,
        "self": 0,
    }
    assert parse([row]).missing == 1


# --- snapping --------------------------------------------------------------------------------


def test_float_noise_is_snapped() -> None:
    row = {
        "timestamp": "2022-05-14 00:00:00+02:00",
        "conso_total": 1e-12,
        "prod_total": -1.1102230246251565e-16,
        "self": -1.1102230246251565e-16,
        f"total_{PV}": -5e-10,
    }
    parsed = parse([row])
    assert parsed.negative == 0
    for key, intervals in parsed.intervals.items():
        assert [i.value for i in intervals] == [0.0], key


# --- other meter types, storage --------------------------------------------------------------


def test_heating_and_water_rows_use_their_channels() -> None:
    site = demo_site()
    meters = meter_infos(site.meters)
    heat = next(m.id for m in site.meters if m.type == "heating")
    water = next(m.id for m in site.meters if m.type == "cold_water")
    start = datetime(2024, 1, 14, 0, 15, tzinfo=UTC)
    end = datetime(2024, 1, 15, 0, 0, tzinfo=UTC)

    heat_rows = sim_rows(site, "heating", start, end)
    parsed = parse(heat_rows, meters, meter_type="heating", site_id=DEMO_SITE_ID)
    assert set(parsed.intervals) == {(heat, Channel.HEAT)}
    assert len(parsed.intervals[(heat, Channel.HEAT)]) == 96
    assert values(parsed, heat, Channel.HEAT) == [snapped(r[f"total_{heat}"]) for r in heat_rows]
    assert sum(values(parsed, heat, Channel.HEAT)) > 0

    water_rows = sim_rows(site, "cold_water", start, end)
    parsed = parse(water_rows, meters, meter_type="cold_water", site_id=DEMO_SITE_ID)
    assert set(parsed.intervals) == {(water, Channel.WATER)}
    assert len(parsed.intervals[(water, Channel.WATER)]) == 96
    assert parsed.last_end == end
    assert parsed.negative == 0
    assert parsed.missing == 0


def test_other_types_hand_made_rows() -> None:
    heat = MeterInfo("a" * 24, "heating", 40, None, "consumption", False, False)
    heat_rule = MeterInfo("b" * 24, "heating", 41, None, "consumption", True, False)
    cold = MeterInfo("c" * 24, "cold_water", 50, None, None, False, False)
    hot = MeterInfo("d" * 24, "hot_water", 51, None, None, False, False)
    elec = MeterInfo("e" * 24, "electricity", 11, None, None, False, False)
    meters = [heat, heat_rule, cold, hot, elec]
    rows = [
        {
            "timestamp": "2024-01-14 01:00:00+01:00",
            f"total_{heat.id}": 1.5,
            f"total_{heat_rule.id}": 3.0,
            f"total_{cold.id}": 0.012,
            f"total_{hot.id}": 0.004,
            f"total_{elec.id}": 9.0,
        },
        {"timestamp": "2024-01-14 01:15:00+01:00", f"total_{heat.id}": -0.2},
        {"timestamp": "2024-01-14 01:30:00+01:00", "conso_total": 1.0},  # no meter column
    ]
    heating = parse(rows, meters, meter_type="heating")
    assert dict(heating.intervals) == {
        (heat.id, Channel.HEAT): [
            Interval(
                datetime(2024, 1, 13, 23, 45, tzinfo=UTC),
                datetime(2024, 1, 14, 0, 0, tzinfo=UTC),
                1.5,
            ),
            Interval(
                datetime(2024, 1, 14, 0, 0, tzinfo=UTC),
                datetime(2024, 1, 14, 0, 15, tzinfo=UTC),
                -0.2,  # as given
            ),
        ]
    }
    assert heating.missing == 1
    assert heating.negative == 0
    assert heating.last_end == datetime(2024, 1, 14, 0, 15, tzinfo=UTC)
    cold_water = parse(rows, meters, meter_type="cold_water")
    assert set(cold_water.intervals) == {(cold.id, Channel.WATER)}
    assert values(cold_water, cold.id, Channel.WATER) == [0.012]
    assert cold_water.missing == 2
    hot_water = parse(rows, meters, meter_type="hot_water")
    assert values(hot_water, hot.id, Channel.WATER) == [0.004]


def test_storage_values_give_battery_channels() -> None:
    site = demo_site(battery=True, rule_meter=True)
    meters = meter_infos(site.meters)
    rows = sim_rows(
        site,
        "electricity",
        datetime(2024, 6, 14, 0, 15, tzinfo=UTC),
        datetime(2024, 6, 15, 0, 0, tzinfo=UTC),
    )
    assert any(r["storage_charging_total"] > 0 for r in rows)
    assert any(r["storage_discharging_total"] > 0 for r in rows)

    parsed = parse(rows, meters, site_id=DEMO_SITE_ID)

    assert parsed.storage_seen is True
    assert values(parsed, DEMO_SITE_ID, Channel.BATTERY_CHARGE) == [
        snapped(r["storage_charging_total"]) for r in rows
    ]
    assert values(parsed, DEMO_SITE_ID, Channel.BATTERY_DISCHARGE) == [
        snapped(r["storage_discharging_total"]) for r in rows
    ]
    for i, row in enumerate(
        rows
    ):  # to_ext as given: production = self + export + charge - discharge
        assert values(parsed, DEMO_SITE_ID, Channel.GRID_EXPORT)[i] == snapped(row["to_ext"])
    battery = next(m.id for m in site.meters if m.mode == "battery")
    rule = next(m.id for m in site.meters if m.is_rule_meter)
    intro = next(m.id for m in site.meters if m.mode == "introduction")
    owners = {owner for owner, _ in parsed.intervals}
    assert not owners & {battery, rule, intro}
    consumers = [
        m.id
        for m in site.meters
        if m.mode == "consumption" and m.type == "electricity" and not m.is_rule_meter
    ]
    assert owners == {DEMO_SITE_ID, *consumers, *(m.id for m in site.meters if m.prim_ad == 101)}


@pytest.mark.parametrize(
    ("charge", "discharge", "seen"),
    [(0.0, 0.0, False), (0.5, 0.0, True), (0.0, 0.25, True), (None, "x", False), (-0.3, 0, False)],
)
def test_storage_seen(charge: Any, discharge: Any, seen: bool) -> None:
    row = {
        "timestamp": "2024-06-14 12:00:00+02:00",
        "conso_total": 1.0,
        "prod_total": 2.0,
        "self": 1.0,
        "storage_charging_total": charge,
        "storage_discharging_total": discharge,
    }
    parsed = parse([row], [])
    assert parsed.storage_seen is seen
    for channel, raw in (
        (Channel.BATTERY_CHARGE, charge),
        (Channel.BATTERY_DISCHARGE, discharge),
    ):
        readable = isinstance(raw, float | int)
        assert values(parsed, CAPTURE_SITE_ID, channel) == ([float(raw)] if readable else [])


def test_dst_autumn_day_has_100_quarters() -> None:
    site = demo_site()
    meters = meter_infos(site.meters)
    start = datetime(2022, 10, 30, 0, 0, tzinfo=ZURICH).astimezone(UTC) + QUARTER
    end = datetime(2022, 10, 31, 0, 0, tzinfo=ZURICH).astimezone(UTC)
    rows = sim_rows(site, "electricity", start, end)
    assert len(rows) == 100
    parsed = parse(rows, meters, site_id=DEMO_SITE_ID)
    series = parsed.intervals[(DEMO_SITE_ID, Channel.CONSUMPTION)]
    assert len(series) == 100
    assert all(b.start == a.end for a, b in itertools.pairwise(series))


# --- exposed meters, channels ----------------------------------------------------------------


def test_exposed_meters() -> None:
    site = demo_site(battery=True, rule_meter=True)
    meters = meter_infos(site.meters)
    exposed = exposed_meters(meters)
    assert [m.prim_ad for m in exposed] == [11, 12, 13, 14, 101, 40, 50]
    assert all(not m.is_rule_meter for m in exposed)
    assert {m.role for m in exposed} == {"consumption", "production"}
    # 2022 schema: roles from prim_ad
    assert [m.prim_ad for m in exposed_meters(capture_meters())] == [101, 11, 12, 13, 14]
    assert exposed_meters([]) == []


@pytest.mark.parametrize(
    ("meter_type", "channel"),
    [
        ("cold_water", Channel.WATER),
        ("hot_water", Channel.WATER),
        ("heating", Channel.HEAT),
        ("cooling", Channel.HEAT),
    ],
)
def test_channel_of_type(meter_type: str, channel: Channel) -> None:
    assert channel_of_type(meter_type) is channel


# --- property: arbitrary rows ----------------------------------------------------------------

PROP_METERS = [
    MeterInfo(INTRO, "electricity", 10, None, None, False, False),
    MeterInfo(PV, "electricity", 101, None, None, False, False),
    MeterInfo(CONSUMERS[0], "electricity", 11, None, None, False, False),
    MeterInfo(CONSUMERS[1], "electricity", 12, None, "consumption", True, False),
    MeterInfo("a" * 24, "heating", 40, None, "consumption", False, False),
    MeterInfo("b" * 24, "cold_water", 50, None, None, False, False),
    MeterInfo("c" * 24, "hot_water", 51, None, None, False, False),
]
ROW_KEYS = [
    "conso_total",
    "prod_total",
    "self",
    "from_ext",
    "to_ext",
    "storage_charging_self",
    "storage_charging_total",
    "storage_discharging_total",
    *(f"{prefix}_{m.id}" for m in PROP_METERS for prefix in ("ext", "self", "total")),
]
SANE_TIMESTAMPS = st.one_of(
    st.datetimes(
        min_value=datetime(1990, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from([UTC, ZURICH, ZoneInfo("America/New_York")]),
    ).map(lambda d: d.isoformat(sep=" ")),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)).map(
        lambda d: d.isoformat(sep=" ")
    ),
    st.integers(min_value=631152000, max_value=4102444800),  # epoch seconds
    st.integers(min_value=631152000000, max_value=4102444800000),  # epoch ms
)
NUMBERS = st.one_of(
    st.floats(min_value=-5, max_value=5),
    st.integers(min_value=-3, max_value=3),
    st.floats(min_value=-1e-8, max_value=1e-8),  # around the snapping threshold
)
SANE_VALUES = st.one_of(
    NUMBERS,
    NUMBERS,
    NUMBERS,
    NUMBERS,
    NUMBERS,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**300), max_value=10**300),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["1.5", "-0.2", "nan", "inf", "1e400", "", "0"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
ANY_TIMESTAMPS = st.one_of(
    SANE_TIMESTAMPS,
    SANE_VALUES,
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat(sep=" ")),
    st.integers(),
    st.sampled_from([10**20, 1e300, -(10**16), float("nan")]),
)
ANY_VALUES = st.one_of(SANE_VALUES, st.integers(), st.sampled_from([10**400, -(10**400)]))


CORE_KEYS = ["conso_total", "prod_total", "self"]


def row_strategy(timestamps: Any, row_values: Any) -> Any:
    """Rows with plausible keys: mostly with the site keys and a timestamp, values arbitrary."""
    full = st.fixed_dictionaries(
        dict.fromkeys(CORE_KEYS, row_values),
        optional={key: row_values for key in ROW_KEYS if key not in CORE_KEYS},
    )
    loose = st.dictionaries(st.sampled_from(ROW_KEYS), row_values, max_size=len(ROW_KEYS))
    return st.builds(
        lambda ts, other, has_ts: {**other, "timestamp": ts} if has_ts else other,
        timestamps,
        st.one_of(full, full, full, loose),
        st.sampled_from([True] * 9 + [False]),  # has a timestamp (mostly)
    )


def check_rows(rows: list[dict[str, Any]], meter_type: str) -> None:
    try:
        parsed = parse_site_rows(
            rows, site_id=CAPTURE_SITE_ID, meter_type=meter_type, meters=PROP_METERS, tz=ZURICH
        )
    except InvalidResponseError:
        return
    assert isinstance(parsed, Parsed)
    assert 0 <= parsed.missing <= len(rows)
    assert 0 <= parsed.negative <= len(rows)
    all_ends: set[datetime] = set()
    for (owner, channel), intervals in parsed.intervals.items():
        assert isinstance(channel, Channel)
        assert owner == CAPTURE_SITE_ID or any(m.id == owner for m in PROP_METERS)
        assert owner not in (INTRO, CONSUMERS[1])  # introduction, rule meter
        assert len({i.end for i in intervals}) == len(intervals)
        for interval in intervals:
            assert interval.end - interval.start == QUARTER
            assert interval.end.utcoffset() == timedelta(0)
            assert math.isfinite(interval.value)
            all_ends.add(interval.end)
    if all_ends:
        assert parsed.last_end == max(all_ends)
    else:
        assert parsed.last_end is None
    if meter_type != "electricity":
        return
    first = {}  # the first row of each instant, as row_values keeps it
    for row in rows:
        first.setdefault(parse_timestamp(row["timestamp"], ZURICH), row)
    for channel, key in SITE_KEYS.items():
        for interval in parsed.intervals.get((CAPTURE_SITE_ID, channel), []):
            row = first[interval.end]
            if key in row:  # given: the row's own figure, never recomputed
                assert interval.value == snapped(float(row[key]))
            else:  # derived only without the key: consumption (production) − self-consumption
                assert channel in (Channel.GRID_IMPORT, Channel.GRID_EXPORT)


METER_TYPES = st.sampled_from(["electricity", "heating", "cold_water", "hot_water"])

# Hypothesis 6.170 on Python 3.14 warns about its own thread-local PRNG; unrelated to us.
HYPOTHESIS_PRNG_WARNING = pytest.mark.filterwarnings(
    "ignore:It looks like `register_random`:hypothesis.errors.HypothesisWarning"
)
PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@HYPOTHESIS_PRNG_WARNING
@PROPERTY_SETTINGS
@given(st.lists(row_strategy(SANE_TIMESTAMPS, SANE_VALUES), max_size=8), METER_TYPES)
def test_property_plausible_rows(rows: list[dict[str, Any]], meter_type: str) -> None:
    """Arbitrary values, timestamps in range: ParsedRows or InvalidResponseError only."""
    check_rows(rows, meter_type)


@HYPOTHESIS_PRNG_WARNING
@pytest.mark.filterwarnings(
    "ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"
)
@settings(PROPERTY_SETTINGS, phases=[Phase.explicit, Phase.generate])  # no shrinking needed
@given(st.lists(row_strategy(ANY_TIMESTAMPS, ANY_VALUES), max_size=8), METER_TYPES)
def test_property_arbitrary_rows(rows: list[dict[str, Any]], meter_type: str) -> None:
    """Fully arbitrary JSON values (timestamps too): ParsedRows or InvalidResponseError only."""
    check_rows(rows, meter_type)
