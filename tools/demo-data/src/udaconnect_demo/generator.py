"""A realistic, deterministic demo conference: attendees, a programme, and the pings of their phones.

The same ``ConferenceSpec`` always gives byte-identical output: every random draw comes from a
``random.Random`` seeded with a string made of the spec's seed and what is being drawn (the persons,
the programme, one attendee's day), never from the global generator or the clock. Because each
attendee has a generator of their own, one attendee's pings can be produced without the others', and
pings are streamed: nothing holds all of them in memory.

How the day works (see ``venue`` for the floor plan): doors open at 08:00 UTC; breakfast on the expo
floor, a keynote, parallel talks in the rooms (popular talks draw bigger crowds), lunch at tables, more
talks, a reception on the expo floor until 18:30. Per slot each attendee picks a talk (often the same
one as their colleagues, sitting next to them), or walks the expo floor from booth to booth, or has
lunch; booth staff mostly stay at their company's booth. Seated people keep a seat for the whole talk,
so neighbours are within a few metres of each other for most of an hour: that is what makes connections.
"""

import bisect
import csv
import hashlib
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import NamedTuple

from udaconnect_demo import venue
from udaconnect_demo.names import COMPANIES, FIRST_NAMES, LAST_NAMES
from udaconnect_demo.venue import Point, Room, Zone

DOORS_OPEN = time(8, 0)
DOORS_CLOSE = time(18, 30)


def _seconds(hour: int, minute: int) -> float:
    return float(hour * 3600 + minute * 60)


_OPEN_S = _seconds(DOORS_OPEN.hour, DOORS_OPEN.minute)
_CLOSE_S = _seconds(DOORS_CLOSE.hour, DOORS_CLOSE.minute)
_LATEST_LEAVE_S = _seconds(18, 10)  # leaves time to walk out before the doors close


@dataclass(frozen=True, slots=True)
class _Slot:
    kind: str  # breakfast | keynote | talks | lunch | reception
    start: float  # seconds after midnight UTC
    end: float


_DAY: tuple[_Slot, ...] = (
    _Slot("breakfast", _OPEN_S, _seconds(9, 0)),
    _Slot("keynote", _seconds(9, 0), _seconds(9, 50)),
    _Slot("talks", _seconds(10, 0), _seconds(10, 45)),
    _Slot("talks", _seconds(11, 0), _seconds(11, 45)),
    _Slot("lunch", _seconds(12, 0), _seconds(13, 15)),
    _Slot("talks", _seconds(13, 15), _seconds(14, 0)),
    _Slot("talks", _seconds(14, 15), _seconds(15, 0)),
    _Slot("talks", _seconds(15, 15), _seconds(16, 0)),
    _Slot("talks", _seconds(16, 15), _seconds(17, 0)),
    _Slot("reception", _seconds(17, 0), _CLOSE_S),
)


@dataclass(frozen=True)
class ConferenceSpec:
    """What to generate. ``ping_interval_seconds`` is the mean time between two pings of one phone."""

    seed: int
    people: int
    days: int
    start_day: date = date(2026, 6, 1)
    ping_interval_seconds: int = 60
    # Moscone Center, San Francisco.
    center_latitude: float = 37.7840
    center_longitude: float = -122.4010

    def __post_init__(self) -> None:
        if self.people < 1:
            raise ValueError(f"people must be at least 1, not {self.people}")
        if self.days < 1:
            raise ValueError(f"days must be at least 1, not {self.days}")
        if self.ping_interval_seconds < 1:
            raise ValueError(f"ping_interval_seconds must be at least 1, not {self.ping_interval_seconds}")
        # Far from the poles and the antimeridian the flat local grid of ``venue`` is accurate.
        if not -80.0 <= self.center_latitude <= 80.0:
            raise ValueError(f"center_latitude must be within ±80°, not {self.center_latitude}")
        if not -179.0 <= self.center_longitude <= 179.0:
            raise ValueError(f"center_longitude must be within ±179°, not {self.center_longitude}")

    @property
    def fingerprint(self) -> str:
        """8 hex digits that differ between specs whose pings differ: part of every ping and batch key.

        Persons depend on the seed alone (person *i* of a seed is the same at every size), but pings depend on
        the whole spec; without this, a batch key of one spec could be replayed with another spec's pings
        and the API would keep whichever came first.
        """
        text = "|".join(str(getattr(self, f.name)) for f in fields(self))
        return hashlib.sha256(text.encode()).hexdigest()[:8]


# ~40 people over 2 days, a ping every 2 minutes: about 20k pings, loaded by ``make up`` in seconds.
SMALL = ConferenceSpec(seed=2026, people=40, days=2, ping_interval_seconds=120)
# 1,200 people over 3 days, a ping a minute: about 1.5 million pings, for load tests and benchmarks.
# Another seed than SMALL's: loaded into the same database, the two do not share persons.
BENCH = ConferenceSpec(seed=2027, people=1200, days=3, ping_interval_seconds=60)


@dataclass(frozen=True, slots=True)
class DemoPerson:
    index: int
    idempotency_key: str
    first_name: str
    last_name: str
    company_name: str


class DemoPing(NamedTuple):
    """One ping. A tuple rather than a dataclass: there are millions, and tuples are the cheapest to make."""

    person_index: int
    idempotency_key: str
    latitude: float
    longitude: float
    creation_time: datetime


class Bounds(NamedTuple):
    south: float
    north: float
    west: float
    east: float


@dataclass(frozen=True, slots=True)
class _Talk:
    room: Room
    rows: int  # the block of seats its audience fills, front and centre
    columns: int


@dataclass(frozen=True, slots=True)
class _Programme:
    """Everything shared by all attendees, drawn once per conference."""

    talks: tuple[tuple[tuple[_Talk, ...], ...], ...]  # [day][slot] -> parallel talks (empty: no talks)
    talk_weights: tuple[tuple[tuple[float, ...], ...], ...]  # [day][slot] -> cumulative popularity
    # [day][slot][company] -> (talk, row, column) where that company's colleagues sit together
    company_seats: tuple[tuple[tuple[tuple[int, int, int], ...], ...], ...]
    company_tables: tuple[tuple[int, ...], ...]  # [day][company] -> lunch table
    booth_weights: tuple[float, ...]  # cumulative popularity of the booths


# Leg of a person's day: (end, start, 1/duration or 0 when standing still, x, y, dx, dy, noise amplitude).
# Position at t: (x + dx·f, y + dy·f) + noise, f = (t - start)/duration. Flat tuples keep the ping loop fast.
_Leg = tuple[float, float, float, float, float, float, float, float]

_MIN_STAY_S = 20.0
# (u1 + u2 + u3 - 1.5) has a standard deviation of 0.5 and never exceeds ±1.5: a bell-shaped noise
# that cannot throw a ping out of the venue (see ``venue.EDGE_MARGIN_M``).
_NOISE_PER_SIGMA = 2.0


class _Walker:
    """Builds one attendee's day as legs: walks along the venue's routes, then stays at a spot."""

    __slots__ = ("gps_sigma", "legs", "speed", "t", "x", "y", "zone")

    def __init__(self, t: float, zone: Zone, position: Point, speed: float, gps_sigma: float) -> None:
        self.t = t
        self.zone = zone
        self.x, self.y = position
        self.speed = speed
        self.gps_sigma = gps_sigma
        self.legs: list[_Leg] = []

    def go(self, zone: Zone, target: Point, until: float, sigma: float, dwell: float | None = None) -> None:
        """Walk to ``target`` in ``zone``; stay until ``until`` (or for ``dwell`` s if sooner), moving by ``sigma``."""
        walk_noise = _NOISE_PER_SIGMA * self.gps_sigma
        for wx, wy in venue.route(self.zone, (self.x, self.y), zone, target):
            dx, dy = wx - self.x, wy - self.y
            distance = math.hypot(dx, dy)
            if distance < 0.1:
                continue
            duration = distance / self.speed
            end = self.t + duration
            self.legs.append((end, self.t, 1.0 / duration, self.x, self.y, dx, dy, walk_noise))
            self.t, self.x, self.y = end, wx, wy
        self.zone = zone
        stay_end = until if dwell is None else min(until, self.t + dwell)
        stay_end = max(stay_end, self.t + _MIN_STAY_S)
        noise = _NOISE_PER_SIGMA * math.hypot(self.gps_sigma, sigma)
        self.legs.append((stay_end, self.t, 0.0, self.x, self.y, 0.0, 0.0, noise))
        self.t = stay_end


@dataclass(frozen=True, slots=True)
class _Attendee:
    """Habits of one attendee, fixed for the whole conference."""

    company: int
    staff_booth: int | None  # the booth they staff, if they do
    speed: float  # walking, m/s
    gps_sigma: float  # their phone's GPS error, m
    seated_sigma: float  # how much they shift about in a seat, m
    days: tuple[int, ...]


def tracks_for(people: int) -> tuple[Room, ...]:
    """The rooms that run talks in parallel: a small conference fills a few rooms, not seven."""
    return venue.ROOMS[: min(len(venue.ROOMS), max(2, people // 12))]


@dataclass
class Conference:
    spec: ConferenceSpec
    persons: list[DemoPerson]
    _programme: _Programme = field(repr=False)
    _companies: list[int] = field(repr=False)  # the company index of each person

    @property
    def bounds(self) -> Bounds:
        """The venue's 200 m x 150 m box in degrees: every ping lies inside it."""
        lat_m, lon_m = venue.metres_per_degree(self.spec.center_latitude)
        return Bounds(
            south=self.spec.center_latitude - venue.HALF_DEPTH_M / lat_m,
            north=self.spec.center_latitude + venue.HALF_DEPTH_M / lat_m,
            west=self.spec.center_longitude - venue.HALF_WIDTH_M / lon_m,
            east=self.spec.center_longitude + venue.HALF_WIDTH_M / lon_m,
        )

    def event_window(self, day: int) -> tuple[datetime, datetime]:
        """Doors open and doors close of day ``day`` (0-based): every ping of that day lies within."""
        on = self.spec.start_day.toordinal() + day
        the_day = date.fromordinal(on)
        return (
            datetime.combine(the_day, DOORS_OPEN, tzinfo=UTC),
            datetime.combine(the_day, DOORS_CLOSE, tzinfo=UTC),
        )

    def iter_pings(self) -> Iterator[DemoPing]:
        """Every ping, person by person, each person's in time order."""
        for person in self.persons:
            yield from self.iter_person_pings(person.index)

    def iter_person_pings(self, index: int) -> Iterator[DemoPing]:
        """The pings of person ``index`` in time order (the same every time)."""
        spec = self.spec
        rnd = random.Random(f"udaconnect-demo:{spec.seed}:person:{index}")
        attendee = self._attendee(rnd, index)
        lat0, lon0 = spec.center_latitude, spec.center_longitude
        lat_m, lon_m = venue.metres_per_degree(lat0)
        # Degrees are rounded to 1e-7 (1 cm), as phones report them: shorter CSV and JSON, same science.
        lat_scale, lon_scale = 1e7 / lat_m, 1e7 / lon_m
        lat_base, lon_base = lat0 * 1e7, lon0 * 1e7
        mean = float(spec.ping_interval_seconds)
        key_prefix = f"demo-{spec.seed}-{spec.fingerprint}-ping-{index}-"
        r = rnd.random
        from_timestamp = datetime.fromtimestamp
        utc = UTC
        n = 0
        first_day = attendee.days[0]
        for day in attendee.days:
            legs = self._plan_day(rnd, attendee, day, registering=day == first_day)
            stop = min(legs[-1][0], _CLOSE_S)
            day_ms = (self.spec.start_day.toordinal() + day - _EPOCH_ORDINAL) * 86_400_000
            t = legs[0][1] + r() * mean
            i = 0
            end, start, inv, x0, y0, dx, dy, amp = legs[0]
            while t < stop:
                while t >= end:
                    i += 1
                    end, start, inv, x0, y0, dx, dy, amp = legs[i]
                f = (t - start) * inv
                x = x0 + dx * f + (r() + r() + r() - 1.5) * amp
                y = y0 + dy * f + (r() + r() + r() - 1.5) * amp
                yield DemoPing(
                    index,
                    key_prefix + str(n),
                    round(lat_base + y * lat_scale) / 1e7,
                    round(lon_base + x * lon_scale) / 1e7,
                    # Whole milliseconds; the division is exact to well under a microsecond, which
                    # fromtimestamp rounds away.
                    from_timestamp((day_ms + int(t * 1000.0)) / 1000.0, utc),
                )
                n += 1
                # Phones do not ping like clockwork: 0.5x to 1.5x the mean interval.
                t += mean * (0.5 + r())

    # -- one attendee ---------------------------------------------------------------------------

    def _attendee(self, rnd: random.Random, index: int) -> _Attendee:
        company = self._companies[index]
        staff_booth = company if company < venue.BOOTH_COUNT and rnd.random() < 0.12 else None
        days = self.spec.days
        # Most come every day; fewer on the last one.
        attended = tuple(d for d in range(days) if rnd.random() < (0.8 if d == days - 1 and days > 1 else 0.93))
        if not attended:
            attended = (rnd.randrange(days),)
        return _Attendee(
            company=company,
            staff_booth=staff_booth,
            speed=rnd.uniform(1.0, 1.5),
            gps_sigma=rnd.uniform(0.7, 1.5),
            # Fidgeting reaches 0.5 m to 3 m from the seat (the noise reaches 3 sigma).
            seated_sigma=rnd.uniform(0.5, 3.0) / 3.0,
            days=attended,
        )

    def _plan_day(self, rnd: random.Random, who: _Attendee, day: int, registering: bool) -> list[_Leg]:
        r = rnd.random
        uniform = rnd.uniform
        arrive, leave = _arrival_and_departure(rnd, staff=who.staff_booth is not None)
        entrance = venue.ENTRANCES[_pick(rnd, _ENTRANCE_CUMULATIVE)]
        w = _Walker(arrive, entrance.zone, entrance.position, who.speed, who.gps_sigma)
        standing = who.seated_sigma + 0.3
        if registering:
            desk_x, desk_y = venue.REGISTRATION.position
            queue_spot = (desk_x + uniform(-3.0, 3.0), desk_y - uniform(1.0, 8.0))
            w.go(venue.LOBBY, queue_spot, leave, standing, dwell=uniform(120.0, 480.0))
        programme = self._programme
        for slot_index, slot in enumerate(_DAY):
            if w.t >= leave - 60.0:
                break
            if slot.end <= w.t + 300.0:
                continue
            until = min(slot.end, leave)
            kind = slot.kind
            if kind == "breakfast":
                self._expo(w, rnd, until, standing, coffee=0.45)
            elif kind == "reception":
                if who.staff_booth is not None:
                    self._booth_duty(w, rnd, who.staff_booth, until, standing)
                else:
                    self._expo(w, rnd, until, standing, coffee=0.35)
            elif kind == "lunch":
                if r() < 0.88:
                    table = (
                        programme.company_tables[day][who.company]
                        if r() < 0.5
                        else rnd.randrange(len(venue.LUNCH_TABLES))
                    )
                    angle = r() * math.tau
                    tx, ty = venue.LUNCH_TABLES[table]
                    seat = (tx + venue.TABLE_RADIUS_M * math.cos(angle), ty + venue.TABLE_RADIUS_M * math.sin(angle))
                    w.go(venue.LUNCH, seat, min(uniform(slot.start + 1800.0, slot.start + 3900.0), until), standing)
                if who.staff_booth is not None:
                    self._booth_duty(w, rnd, who.staff_booth, until, standing)
                else:
                    self._expo(w, rnd, until, standing, coffee=0.2)
            else:  # a keynote or parallel talks
                keynote = kind == "keynote"
                if who.staff_booth is not None and r() < (0.5 if keynote else 0.8):
                    self._booth_duty(w, rnd, who.staff_booth, until, standing)
                    continue
                if w.t > slot.start + 900.0 or r() > (0.88 if keynote else 0.78):
                    # Too late to walk into a talk, or not interested: the expo floor instead.
                    self._expo(w, rnd, until, standing, coffee=0.25)
                    continue
                if w.t < slot.start - 420.0 and r() < 0.4:
                    # A coffee on the way between two talks.
                    bar = venue.COFFEE_BARS[rnd.randrange(len(venue.COFFEE_BARS))]
                    w.go(venue.EXPO, _near(rnd, bar.position, 3.0), slot.start - 150.0, standing)
                room, seat = self._seat(rnd, day, slot_index, who.company)
                # Some stay on for questions, or to chat with the speaker.
                w.go(room.zone, seat, min(slot.end + uniform(0.0, 180.0), leave), who.seated_sigma)
        entrance = venue.ENTRANCES[_pick(rnd, _ENTRANCE_CUMULATIVE)]
        w.go(entrance.zone, entrance.position, w.t, 0.0)
        return w.legs

    def _seat(self, rnd: random.Random, day: int, slot: int, company: int) -> tuple[Room, Point]:
        programme = self._programme
        talks = programme.talks[day][slot]
        if rnd.random() < 0.45:
            # With colleagues: a seat or two from the company's, in the same or the next row.
            talk_index, row, column = programme.company_seats[day][slot][company]
            room = talks[talk_index].room
            row = min(max(row + rnd.choice((-1, 0, 0, 0, 1)), 0), room.rows - 1)
            column = min(max(column + rnd.randint(-3, 3), 0), talks[talk_index].columns - 1)
            talk = talks[talk_index]
        else:
            talk = talks[_pick(rnd, programme.talk_weights[day][slot])]
            room = talk.room
            # Front rows fill up a little faster than back rows.
            row = int(talk.rows * rnd.random() ** 1.3)
            column = rnd.randrange(talk.columns)
        return room, room.seat(row, column - (talk.columns - 1) / 2.0)

    def _expo(self, w: _Walker, rnd: random.Random, until: float, sigma: float, coffee: float) -> None:
        """Booth to booth (popular booths more often), with the odd coffee, until ``until``."""
        weights = self._programme.booth_weights
        while w.t < until - 60.0:
            if rnd.random() < coffee:
                spot = venue.COFFEE_BARS[rnd.randrange(len(venue.COFFEE_BARS))].position
                dwell = rnd.uniform(180.0, 540.0)
            else:
                spot = venue.booth_spot(_pick(rnd, weights))
                dwell = rnd.uniform(120.0, 480.0)
            w.go(venue.EXPO, _near(rnd, spot, 3.0), until, sigma, dwell=dwell)

    @staticmethod
    def _booth_duty(w: _Walker, rnd: random.Random, booth: int, until: float, sigma: float) -> None:
        """Behind the counter of ``booth``, moving about it every 10-25 minutes."""
        bx, by = venue.booth_spot(booth)
        while w.t < until - 60.0:
            spot = (bx + rnd.uniform(-1.5, 1.5), by - 2.5 + rnd.uniform(-0.8, 0.8))
            w.go(venue.EXPO, spot, until, sigma, dwell=rnd.uniform(600.0, 1500.0))


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _arrival_and_departure(rnd: random.Random, staff: bool) -> tuple[float, float]:
    """When one attendee comes in and leaves on one day, in seconds after midnight."""
    uniform = rnd.uniform
    if staff:
        # Booth staff set up before the doors open to visitors and stay to the end.
        return uniform(_seconds(8, 0), _seconds(8, 40)), uniform(_seconds(17, 45), _LATEST_LEAVE_S)
    arrival_draw, departure_draw = rnd.random(), rnd.random()
    if arrival_draw < 0.7:
        arrive = uniform(_seconds(8, 0), _seconds(9, 0))
    elif arrival_draw < 0.85:
        arrive = uniform(_seconds(9, 0), _seconds(10, 0))
    else:  # comes for the afternoon only
        arrive = uniform(_seconds(10, 0), _seconds(13, 0))
    if departure_draw < 0.6:
        leave = uniform(_seconds(17, 15), _LATEST_LEAVE_S)
    elif departure_draw < 0.85:
        leave = uniform(_seconds(16, 0), _seconds(17, 15))
    else:  # has a flight to catch
        leave = uniform(_seconds(13, 30), _seconds(16, 0))
    # Whoever comes stays at least two hours (or until the end).
    return arrive, max(leave, min(arrive + 2 * 3600.0, _LATEST_LEAVE_S))


def _cumulative(weights: list[float]) -> tuple[float, ...]:
    total = 0.0
    out = []
    for weight in weights:
        total += weight
        out.append(total)
    return tuple(out)


_ENTRANCE_CUMULATIVE = _cumulative(list(venue.ENTRANCE_WEIGHTS))


def _pick(rnd: random.Random, cumulative: tuple[float, ...]) -> int:
    """An index drawn by weight; ``random.choices`` is slower and its result a list."""
    return min(bisect.bisect(cumulative, rnd.random() * cumulative[-1]), len(cumulative) - 1)


def _near(rnd: random.Random, centre: Point, radius: float) -> Point:
    """A point drawn evenly from the disc of ``radius`` around ``centre``."""
    distance = radius * math.sqrt(rnd.random())
    angle = rnd.random() * math.tau
    return (centre[0] + distance * math.cos(angle), centre[1] + distance * math.sin(angle))


# -- the whole conference ---------------------------------------------------------------------------

# Larger companies send more people (weight 1/rank^0.7).
_COMPANY_CUMULATIVE = _cumulative([1.0 / (rank + 1) ** 0.7 for rank in range(len(COMPANIES))])
# Share of those present in a talk slot who sit in a talk (the rest walk the expo or staff a booth).
_EXPECTED_AUDIENCE = 0.6
_BLOCK_OCCUPANCY = 0.65  # audiences leave gaps; a block of seats is about two thirds full
_MIN_BLOCK_SEATS = 20


def generate(spec: ConferenceSpec) -> Conference:
    """The conference of ``spec``: its persons now; its pings streamed by ``Conference.iter_pings``."""
    people_rnd = random.Random(f"udaconnect-demo:{spec.seed}:persons")
    persons: list[DemoPerson] = []
    companies: list[int] = []
    for index in range(spec.people):
        company = _pick(people_rnd, _COMPANY_CUMULATIVE)
        persons.append(
            DemoPerson(
                index=index,
                idempotency_key=f"demo-{spec.seed}-person-{index}",
                first_name=people_rnd.choice(FIRST_NAMES),
                last_name=people_rnd.choice(LAST_NAMES),
                company_name=COMPANIES[company],
            )
        )
        companies.append(company)
    programme = _draw_programme(random.Random(f"udaconnect-demo:{spec.seed}:programme"), spec)
    return Conference(spec=spec, persons=persons, _programme=programme, _companies=companies)


def _draw_programme(rnd: random.Random, spec: ConferenceSpec) -> _Programme:
    tracks = tracks_for(spec.people)
    talks: list[tuple[tuple[_Talk, ...], ...]] = []
    talk_weights: list[tuple[tuple[float, ...], ...]] = []
    company_seats: list[tuple[tuple[tuple[int, int, int], ...], ...]] = []
    for _day in range(spec.days):
        day_talks: list[tuple[_Talk, ...]] = []
        day_weights: list[tuple[float, ...]] = []
        day_seats: list[tuple[tuple[int, int, int], ...]] = []
        for slot in _DAY:
            if slot.kind == "keynote":
                rooms: tuple[Room, ...] = tracks[:1]
                weights = [1.0]
            elif slot.kind == "talks":
                rooms = tracks
                # A few talks are hits; the main hall's track draws more on average.
                weights = [rnd.lognormvariate(0.0, 0.8) * (1.5 if i == 0 else 1.0) for i in range(len(rooms))]
            else:
                day_talks.append(())
                day_weights.append(())
                day_seats.append(())
                continue
            total = sum(weights)
            share = 0.85 if slot.kind == "keynote" else _EXPECTED_AUDIENCE
            slot_talks = tuple(
                _block(room, spec.people * share * weight / total) for room, weight in zip(rooms, weights, strict=True)
            )
            cumulative = _cumulative(weights)
            seats = []
            for _company in COMPANIES:
                choice = _pick(rnd, cumulative)
                talk = slot_talks[choice]
                seats.append((choice, int(talk.rows * rnd.random() ** 1.3), rnd.randrange(talk.columns)))
            day_talks.append(slot_talks)
            day_weights.append(cumulative)
            day_seats.append(tuple(seats))
        talks.append(tuple(day_talks))
        talk_weights.append(tuple(day_weights))
        company_seats.append(tuple(day_seats))
    company_tables = tuple(
        tuple(rnd.randrange(len(venue.LUNCH_TABLES)) for _company in COMPANIES) for _day in range(spec.days)
    )
    booth_weights = _cumulative([rnd.lognormvariate(0.0, 0.6) for _booth in range(venue.BOOTH_COUNT)])
    return _Programme(
        talks=tuple(talks),
        talk_weights=tuple(talk_weights),
        company_seats=tuple(company_seats),
        company_tables=company_tables,
        booth_weights=booth_weights,
    )


def _block(room: Room, expected_audience: float) -> _Talk:
    """The front-and-centre block of seats an audience of that size fills, about 2.5 times wider than deep."""
    seats = max(_MIN_BLOCK_SEATS, math.ceil(expected_audience / _BLOCK_OCCUPANCY))
    rows = min(room.rows, max(2, math.ceil(math.sqrt(seats / 2.5))))
    columns = min(room.columns, math.ceil(seats / rows))
    rows = min(room.rows, max(rows, math.ceil(seats / columns)))
    return _Talk(room=room, rows=rows, columns=columns)


# -- CSV for a bulk loader --------------------------------------------------------------------------


class CsvCounts(NamedTuple):
    persons: int
    pings: int


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z``: ``2026-06-01T08:30:12.345Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_csv(conference: Conference, directory: Path) -> CsvCounts:
    """Write ``persons.csv`` and ``locations.csv`` into ``directory`` (made if missing); byte-identical per spec."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "persons.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("key", "first_name", "last_name", "company_name"))
        writer.writerows((p.idempotency_key, p.first_name, p.last_name, p.company_name) for p in conference.persons)
    keys = [person.idempotency_key for person in conference.persons]
    pings = 0
    with (directory / "locations.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("person_key", "key", "latitude", "longitude", "creation_time"))
        for ping in conference.iter_pings():
            writer.writerow(
                (
                    keys[ping.person_index],
                    ping.idempotency_key,
                    ping.latitude,
                    ping.longitude,
                    iso_utc(ping.creation_time),
                )
            )
            pings += 1
    return CsvCounts(persons=len(keys), pings=pings)
