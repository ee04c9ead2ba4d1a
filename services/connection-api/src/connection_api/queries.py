"""The proximity queries: set-based SQL statements driven by the person's own pings.

Three steps, all in one statement:

1. *mine*: the person's pings that can pair with an other ping in the stretch of time being read, from the
   btree on (person_id, creation_time).
2. *candidates*: every other ping in that stretch in an Earth-centred cube that can hold a ping within D
   metres of one of mine, from the btree on (cube, creation_time) (migration 0004): one index search per
   cube, bounded by the times an other ping there can have, then only those rows. The cubes are those each
   own ping's D-box overlaps and the ellipsoid passes through: 6.25 m cubes up to 25 m, 50 m cubes beyond
   (``udaconnect_common.cubes``), the same size everywhere on Earth, poles and antimeridian included.
3. *the exact check*: a straight-line distance in metres between ``space_time`` points (Earth-centred),
   equal to the spheroid's geodesic to under a micrometre at these distances, and the exact times. Each
   candidate is checked only against the own pings in its own cell of a grid of 2D-metre cubes,
   which every own ping is filed under for each cube its D-sphere reaches (at most two per axis), so the
   check is one hash lookup, not one comparison per own ping.

The legacy service ran one full-table scan per own ping, with latitude and longitude swapped.
"""

import functools
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CTE,
    BigInteger,
    ColumnElement,
    DateTime,
    Float,
    Integer,
    Interval,
    Select,
    Uuid,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
)

from connection_api.proximity import Proximity
from udaconnect_common.cubes import SQL_OPS, SURFACE_SLACK_M, CubeSize, cube_key, reach, surface_gap
from udaconnect_common.tables import location_table, person_table
from udaconnect_common.timerange import TimeRange

# Every value of a request is bound, none built in: a statement is built and compiled once for each shape
# (with or without a window, with or without a cursor) and then run for every request and every stretch
# of time with :func:`slice_params`. Building and compiling one cost more than running it.
_PERSON_ID = bindparam("person_id", type_=Uuid)
_DISTANCE = bindparam("distance_m", type_=Float)
# The window, or the range's length without one (:attr:`Proximity.effective_window`).
_WINDOW = bindparam("window", type_=Interval)
_WINDOW_S = bindparam("window_s", type_=Float)
_SLICE_START = bindparam("slice_start", type_=DateTime(timezone=True))
_SLICE_END = bindparam("slice_end", type_=DateTime(timezone=True))
_OWN_FROM = bindparam("own_from", type_=DateTime(timezone=True))
_OWN_TO = bindparam("own_to", type_=DateTime(timezone=True))
# An own ping's window is widened by this much when its bins are chosen, so that rounding an epoch in
# floating point never leaves out the bin its window just reaches (an extra bin only reads more).
BIN_MARGIN_S = 0.001
_PAGE_LIMIT = bindparam("page_limit", type_=Integer)
_AFTER_TIME = bindparam("after_time", type_=DateTime(timezone=True))
_AFTER_ID = bindparam("after_id", type_=Uuid)
_AFTER_ENCOUNTERS = bindparam("after_encounters", type_=Integer)


def slice_params(
    query: Proximity,
    others: TimeRange,
    limit: int | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> dict[str, Any]:
    """The values that bind a statement to ``query`` and ``others``, a part of its period (and to a page
    size and a cursor)."""
    window = query.effective_window
    values_: dict[str, Any] = {
        "person_id": query.person_id,
        "distance_m": query.distance_m,
        "window": window,
        "window_s": window.total_seconds(),
        "slice_start": others.start,
        "slice_end": others.end,
        # The own pings that can pair with an other ping in ``others``: in the period, within the window of it.
        "own_from": max(query.period.start, others.start - window),
        "own_to": min(query.period.end, others.end + window),
    }
    if limit is not None:
        values_["page_limit"] = limit
    if after is not None:
        values_["after_time"], values_["after_id"] = after
    return values_


def _mine() -> CTE:
    """The person's pings that can pair with an other ping in the stretch read, with their coordinates."""
    space_time = location_table.c.space_time
    return (
        select(
            space_time,
            location_table.c.creation_time,
            func.ST_X(space_time).label("x"),
            func.ST_Y(space_time).label("y"),
            func.ST_Z(space_time).label("z"),
        )
        .where(
            location_table.c.person_id == _PERSON_ID,
            location_table.c.creation_time >= _OWN_FROM,
            location_table.c.creation_time < _OWN_TO,
        )
        .cte("mine")
        # Computed once, then read by each of the steps below.
        .prefix_with("MATERIALIZED")
    )


def _reach(mine: CTE, size: CubeSize, *, binned: bool) -> CTE:
    """The cubes of ``size`` that can hold a ping within D of one of mine, each with the times an other ping
    there can have: one row per cube and *bin*, a window-long stretch of the others' time.

    Each own ping reaches the cubes its D-box overlaps (at 5 m, two or three along each axis), in the bins
    its window overlaps (two or three). The pings are gathered in blocks as large as that reach and each
    block's box is listed once: at 500 m a person's day spans a few blocks, where listing each ping's reach
    would list most cubes a hundred times over. Of a box's cubes only those the ellipsoid passes through
    can hold a ping: the others are dropped before any index search
    (:func:`udaconnect_common.cubes.surface_gap`).

    With a window, bins keep each search to the times that matter: a cube the person passed at 9 and at 5
    is read around 9 and around 5, not all day. They partition the others' time, so no ping is read twice.
    Without a window every time in the range matches, and the stretch read is the only bound.
    """
    boxes = select(
        *(
            bound.label(f"{end}_{axis}")
            for axis in _AXES
            for end, bound in zip(("first", "last"), reach(mine.c[axis], _DISTANCE, size.metres, SQL_OPS), strict=True)
        ),
        mine.c.creation_time,
    ).select_from(mine)
    if binned:
        own_bins = _bins(mine.c.creation_time).table_valued("bin").render_derived("own_bins")
        boxes = boxes.add_columns(own_bins.c.bin).join(own_bins, literal(True))
    boxes_cte = boxes.cte("boxes")
    by_bin = [boxes_cte.c.bin] if binned else []
    spans = {axis: boxes_cte.c[f"last_{axis}"] - boxes_cte.c[f"first_{axis}"] + 1 for axis in _AXES}
    blocks = (
        select(
            *by_bin,
            *(func.min(boxes_cte.c[f"first_{axis}"]).label(f"first_{axis}") for axis in _AXES),
            *(func.max(boxes_cte.c[f"last_{axis}"]).label(f"last_{axis}") for axis in _AXES),
            func.min(boxes_cte.c.creation_time).label("first_seen"),
            func.max(boxes_cte.c.creation_time).label("last_seen"),
        )
        .group_by(*by_bin, *(boxes_cte.c[f"first_{axis}"] // spans[axis] for axis in _AXES))
        .cte("blocks")
    )
    # A function in FROM may read the items before it: each block's own cube numbers along each axis.
    numbers = {
        axis: func.generate_series(blocks.c[f"first_{axis}"], blocks.c[f"last_{axis}"])
        .table_valued("number")
        .render_derived(f"{axis}_numbers")
        for axis in _AXES
    }
    x, y, z = (numbers[axis].c.number for axis in _AXES)
    cube = cube_key(x, y, z, SQL_OPS).label("cube")
    bin_start: ColumnElement[datetime]
    bin_end: ColumnElement[datetime]
    if binned:
        bin_start, bin_end = (func.to_timestamp((blocks.c.bin + step) * _WINDOW_S) for step in (0, 1))
    else:
        bin_start, bin_end = _SLICE_START, _SLICE_END
    statement = select(
        cube,
        func.greatest(func.min(blocks.c.first_seen) - _WINDOW, bin_start, _SLICE_START).label("seen_from"),
        # Inclusive: a ping exactly a window after an own ping is within it.
        func.least(func.max(blocks.c.last_seen) + _WINDOW, _SLICE_END).label("seen_until"),
        # Exclusive: the next bin starts there.
        bin_end.label("bin_end"),
    ).select_from(blocks)
    for axis in _AXES:
        statement = statement.join(numbers[axis], literal(True))
    return (
        statement.where(surface_gap(x, y, z, size.metres, SQL_OPS) <= SURFACE_SLACK_M)
        .group_by(cube, *([blocks.c.bin] if binned else []))
        .cte("reach")
    )


def _bins(at: ColumnElement[datetime]) -> Any:
    """The numbers of the bins an own ping at ``at`` reaches, only those of the stretch read (a short
    stretch is in one bin, or two)."""
    epoch = func.extract("epoch", at)
    return func.generate_series(
        func.greatest(
            func.floor((epoch - _WINDOW_S - BIN_MARGIN_S) / _WINDOW_S),
            func.floor(func.extract("epoch", _SLICE_START) / _WINDOW_S),
        ).cast(BigInteger),
        func.least(
            func.floor((epoch + _WINDOW_S + BIN_MARGIN_S) / _WINDOW_S),
            func.floor(func.extract("epoch", _SLICE_END) / _WINDOW_S),
        ).cast(BigInteger),
    )


def _check_cell(coordinate: ColumnElement[float], offset: ColumnElement[int] | int = 0) -> Any:
    """A coordinate's cell in the check grid of 2D-metre cubes."""
    return func.floor(coordinate / (2.0 * _DISTANCE)).cast(BigInteger) + offset


def _check_period(at: ColumnElement[datetime], offset: ColumnElement[int] | int = 0) -> Any:
    """A time's period of the check grid, periods two windows long (with a window)."""
    return func.floor(func.extract("epoch", at) / (2.0 * _WINDOW_S)).cast(BigInteger) + offset


_AXES = ("x", "y", "z")


def _filed(mine: CTE, *, windowed: bool) -> CTE:
    """Own pings filed under each cell of the check grid that they can be near: a candidate is then
    checked only against what is filed under its own cell. Cubes are 2D wide, so a ping's D-sphere reaches
    at most two along each axis.

    Without a window the time always matches: the own pings of each cube are collected into one
    multipoint, filed under the cubes within D of them, and a candidate is checked against all of them in
    one C call. With a window each own ping is filed on its own, also under each period (two windows
    long) its window reaches, and the check includes the exact times.
    """
    if not windowed:
        return _filed_by_cube(mine)
    axes = (*_AXES, "t")
    # 0 or 1 cell further along each axis (a VALUES list would do, but SQLAlchemy cannot cache it).
    steps = {axis: func.generate_series(0, 1).table_valued("step").render_derived(f"{axis}_steps") for axis in axes}
    cells = {axis: _check_cell(mine.c[axis] - _DISTANCE, steps[axis].c.step) for axis in _AXES}
    cells["t"] = _check_period(mine.c.creation_time - _WINDOW, steps["t"].c.step)
    # The second cell on an axis only when the sphere (or the window) crosses into it.
    within = [cells[axis] <= _check_cell(mine.c[axis] + _DISTANCE) for axis in _AXES]
    within.append(cells["t"] <= _check_period(mine.c.creation_time + _WINDOW))
    filed = select(
        *(cells[axis].label(f"cell_{axis}") for axis in axes), *(mine.c[axis] for axis in _AXES), mine.c.creation_time
    )
    filed = filed.select_from(mine)
    for axis in axes:
        filed = filed.join(steps[axis], literal(True))
    return filed.where(*within).cte("filed").prefix_with("MATERIALIZED")


def _filed_by_cube(mine: CTE) -> CTE:
    """:func:`_filed` without a window: a multipoint per cube of own pings, under each cube within D of
    one of them (the cube itself and, along each axis, the neighbour its pings come within D of)."""
    cube = {axis: _check_cell(mine.c[axis]).label(f"cube_{axis}") for axis in _AXES}
    own_cubes = (
        select(
            *cube.values(),
            func.ST_Collect(mine.c.space_time).label("space_time"),
            *(func.min(mine.c[axis]).label(f"{axis}_min") for axis in _AXES),
            *(func.max(mine.c[axis]).label(f"{axis}_max") for axis in _AXES),
        )
        .group_by(*cube.values())
        .cte("own_cubes")
    )
    steps = {axis: func.generate_series(-1, 1).table_valued("step").render_derived(f"{axis}_steps") for axis in _AXES}
    cells = {axis: own_cubes.c[f"cube_{axis}"] + steps[axis].c.step for axis in _AXES}
    reached = [
        cells[axis].between(
            _check_cell(own_cubes.c[f"{axis}_min"] - _DISTANCE), _check_cell(own_cubes.c[f"{axis}_max"] + _DISTANCE)
        )
        for axis in _AXES
    ]
    filed = select(*(cells[axis].label(f"cell_{axis}") for axis in _AXES), own_cubes.c.space_time)
    filed = filed.select_from(own_cubes)
    for axis in _AXES:
        filed = filed.join(steps[axis], literal(True))
    return filed.where(*reached).cte("filed").prefix_with("MATERIALIZED")


def _in_reach(other: Any, reach: CTE, size: CubeSize) -> list[ColumnElement[bool]]:
    """An other person's ping in a cube of ``reach`` (one per row: a lateral search), at a time an other ping
    there can have, before the end of the stretch read."""
    return [
        other.c[size.column] == reach.c.cube,
        other.c.creation_time >= reach.c.seen_from,
        other.c.creation_time <= reach.c.seen_until,
        other.c.creation_time < reach.c.bin_end,
        other.c.creation_time < _SLICE_END,
        other.c.person_id != _PERSON_ID,
    ]


def _candidates(reach: CTE, size: CubeSize, *, windowed: bool, for_contacts: bool = False) -> CTE:
    """Every other ping in a cube in reach, at a time an other ping there can have (in the stretch read, and
    with a window, within a window of the own pings that reach the cube), with its cell of the check grid.
    Contacts need no id or position of their own: only what they count and compare."""
    other = location_table.alias("other")
    # One index search per (cube, bin), bounded by its own times. OFFSET 0 keeps the subquery a lateral
    # search per cube: flattened into a join, the planner could choose to scan and hash the whole table.
    space_time = other.c.space_time
    in_cell = (
        select(
            *(() if for_contacts else (other.c.id, other.c.coordinate)),
            other.c.person_id,
            other.c.creation_time,
            # With a window the check is on the coordinates below; without one, on the point itself.
            *(() if windowed else (space_time,)),
            func.ST_X(space_time).label("x"),
            func.ST_Y(space_time).label("y"),
            func.ST_Z(space_time).label("z"),
        )
        .where(*_in_reach(other, reach, size))
        .offset(0)
        .lateral("in_cell")
    )
    cells = [_check_cell(in_cell.c[axis]) for axis in _AXES]
    if windowed:
        cells.append(_check_period(in_cell.c.creation_time))
    axes = (*_AXES, "t") if windowed else _AXES
    return (
        select(in_cell)
        .add_columns(*(cell.label(f"cell_{axis}") for cell, axis in zip(cells, axes, strict=True)))
        .select_from(reach.join(in_cell, literal(True)))
        .cte("candidate")
        .prefix_with("MATERIALIZED")
    )


def _exactly_near(candidate: CTE, filed: CTE, *, windowed: bool) -> ColumnElement[bool]:
    """A candidate and an own ping (or a cube's multipoint of them) filed under its cell, near enough."""
    axes = (*_AXES, "t") if windowed else _AXES
    conditions = [candidate.c[f"cell_{axis}"] == filed.c[f"cell_{axis}"] for axis in axes]
    if windowed:
        # Plain floating point on the coordinates, as PostGIS computes it, without decoding two geometries
        # per pair (a candidate meets several own pings).
        conditions.append(_squared_distance(candidate, filed) <= _DISTANCE * _DISTANCE)
        conditions.append(
            candidate.c.creation_time.between(filed.c.creation_time - _WINDOW, filed.c.creation_time + _WINDOW)
        )
    else:
        conditions.append(func.ST_3DDWithin(candidate.c.space_time, filed.c.space_time, _DISTANCE))
    return and_(*conditions)


def _squared_distance(candidate: CTE, filed: CTE) -> ColumnElement[float]:
    """The squared straight-line distance between a candidate and an own ping filed on its own."""
    differences = [candidate.c[axis] - filed.c[axis] for axis in _AXES]
    return sum((d * d for d in differences[1:]), differences[0] * differences[0])


def _closest(candidate: CTE, filed: CTE, *, windowed: bool) -> ColumnElement[float]:
    """The smallest distance of the pairs grouped (a multipoint's nearest point without a window)."""
    if windowed:
        return func.sqrt(func.min(_squared_distance(candidate, filed)), type_=Float)
    return func.min(func.ST_3DDistance(candidate.c.space_time, filed.c.space_time))


def _near_pings(size: CubeSize, *, windowed: bool) -> CTE:
    """Each other ping in the stretch read (:func:`slice_params`) near one of the person's pings, once."""
    mine = _mine()
    candidate = _candidates(_reach(mine, size, binned=windowed), size, windowed=windowed)
    filed = _filed(mine, windowed=windowed)
    return (
        select(candidate.c.id, candidate.c.person_id, candidate.c.creation_time, candidate.c.coordinate)
        # A semi-join: it stops at the first own ping near enough.
        .where(exists().where(_exactly_near(candidate, filed, windowed=windowed)))
        .cte("near")
    )


@functools.cache
def next_candidate_statement(size: CubeSize, *, windowed: bool) -> Select[Any]:
    """The earliest time from ``slice_start`` on (:func:`slice_params`) at which an other ping may be near
    the person (or a time before it: the reader starts at the later); NULL if there is none before
    ``slice_end``. The reader jumps there over stretches with nothing near (a night) in one statement. It
    may be a time the exact check then refuses, which costs a short read, never a wrong answer.

    With a window, that is a window before the person's next ping: one lookup in the person's index. Without
    one, an other ping can be near at any time, so it is the first ping in a cell in reach of one of the
    person's pings: one descent per cube of the (cube, time) index.
    """
    if windowed:
        own = location_table
        # NULL when the person has no ping left; the reader starts at the later of this and its start.
        return select(func.min(own.c.creation_time) - _WINDOW).where(
            own.c.person_id == _PERSON_ID, own.c.creation_time >= _OWN_FROM, own.c.creation_time < _OWN_TO
        )
    reach = _reach(_mine(), size, binned=False)
    other = location_table.alias("other")
    first_in_cell = (
        select(other.c.creation_time)
        .where(*_in_reach(other, reach, size))
        .order_by(other.c.creation_time)
        .limit(1)
        .lateral("first_in_cell")
    )
    return select(func.min(first_in_cell.c.creation_time)).select_from(reach.join(first_in_cell, literal(True)))


@functools.cache
def connections_page_statement(size: CubeSize, *, windowed: bool, with_cursor: bool) -> Select[Any]:
    """Each other ping in the stretch read (:func:`slice_params`) once, ordered by (time, id), after the cursor.

    The reader reads the period stretch by stretch until a page is full, so a page costs what its rows
    cost, not what the whole answer costs (a day without a window can be 200,000 rows on a busy floor). The
    whole period is one stretch too.
    """
    near = _near_pings(size, windowed=windowed)
    page = select(near).order_by(near.c.creation_time, near.c.id).limit(_PAGE_LIMIT)
    if with_cursor:
        page = page.where(tuple_(near.c.creation_time, near.c.id) > tuple_(_AFTER_TIME, _AFTER_ID))
    # The page's rows only get their person and position.
    on_page = page.subquery("on_page")
    return (
        select(
            on_page.c.id,
            on_page.c.person_id,
            # Longitude is X, latitude is Y.
            func.ST_Y(func.geometry(on_page.c.coordinate)).label("latitude"),
            func.ST_X(func.geometry(on_page.c.coordinate)).label("longitude"),
            on_page.c.creation_time,
            person_table.c.first_name,
            person_table.c.last_name,
            person_table.c.company_name,
        )
        .select_from(on_page.join(person_table, person_table.c.id == on_page.c.person_id))
        .order_by(on_page.c.creation_time, on_page.c.id)
    )


def connections_statement(
    query: Proximity, others: TimeRange, limit: int, after: tuple[datetime, uuid.UUID] | None
) -> Select[Any]:
    """:func:`connections_page_statement` for ``query``, bound to ``others``, ``limit`` and ``after``."""
    statement = connections_page_statement(
        query.cube_size, windowed=query.window is not None, with_cursor=after is not None
    )
    return statement.params(slice_params(query, others, limit, after))


@functools.cache
def contacts_page_statement(size: CubeSize, *, windowed: bool, with_cursor: bool) -> Select[Any]:
    """One row per other person met, most encounters first (then person id), one page after the cursor.

    Two passes over the same candidates: which of them are near (a semi-join, each once: the count and the
    first and last time), and the closest distance of every near pair per person (a join, a minimum needs
    no de-duplication). Grouping the pairs by candidate instead would sort every pair.

    Ordered by a count over the whole period, so every page reads the whole answer.
    """
    mine = _mine()
    candidate = _candidates(_reach(mine, size, binned=windowed), size, windowed=windowed, for_contacts=True)
    filed = _filed(mine, windowed=windowed)
    near = (
        select(candidate.c.person_id, candidate.c.creation_time)
        .where(exists().where(_exactly_near(candidate, filed, windowed=windowed)))
        .subquery("near")
    )
    met = (
        select(
            near.c.person_id,
            func.count().label("encounters"),
            func.min(near.c.creation_time).label("first_seen"),
            func.max(near.c.creation_time).label("last_seen"),
        )
        .group_by(near.c.person_id)
        .subquery("met")
    )
    closest = (
        select(
            candidate.c.person_id,
            _closest(candidate, filed, windowed=windowed).label("closest_distance_m"),
        )
        .select_from(candidate.join(filed, _exactly_near(candidate, filed, windowed=windowed)))
        .group_by(candidate.c.person_id)
        .subquery("closest")
    )
    statement = (
        select(
            met,
            closest.c.closest_distance_m,
            person_table.c.first_name,
            person_table.c.last_name,
            person_table.c.company_name,
        )
        .select_from(
            met.join(closest, closest.c.person_id == met.c.person_id).join(
                person_table, person_table.c.id == met.c.person_id
            )
        )
        .order_by(met.c.encounters.desc(), met.c.person_id)
        .limit(_PAGE_LIMIT)
    )
    if with_cursor:
        statement = statement.where(
            or_(
                met.c.encounters < _AFTER_ENCOUNTERS,
                and_(met.c.encounters == _AFTER_ENCOUNTERS, met.c.person_id > _AFTER_ID),
            )
        )
    return statement


def contacts_statement(query: Proximity, limit: int, after: tuple[int, uuid.UUID] | None) -> Select[Any]:
    """:func:`contacts_page_statement` for ``query``, bound to ``limit`` and ``after``."""
    statement = contacts_page_statement(
        query.cube_size, windowed=query.window is not None, with_cursor=after is not None
    )
    values_ = slice_params(query, query.period, limit)
    if after is not None:
        values_["after_encounters"], values_["after_id"] = after
    return statement.params(values_)
