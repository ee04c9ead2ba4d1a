# The inner loops of contacts, compiled (docs/architecture.md, "Contacts for a whole event"): a whole
# event is a million pings, more than SQL or numpy can classify in the time a user waits.
#
# The index (``contacts_index``) files every ping under its Earth-centred cube. For each cube the own
# pings can reach, the caller lists those own pings; every other ping in that cube is compared with that
# list only. A ping lies in one cube, so it is counted at most once.
from libc.math cimport sqrt
from libc.stdint cimport int32_t, int64_t

import numpy as np

# Triangle-inequality bounds are computed in floating point around positions of ~6.4e6 m (an ulp is
# ~1e-9 m): widened by this much they never leave out a ping the exact check would accept.
cdef double BOUND_SLACK_M = 1e-6
# A ping's position is stored as its offset from the corner of its 50 m cube in units of 2^-25 m (about
# 3e-8 m) in an int32: 12 bytes instead of 24. A power of two, so scaling back is exact.
cdef double OFFSET_UNIT_M = 1.0 / 33554432.0


def add_contacts(
    const int64_t[::1] time,
    const int32_t[:, ::1] offset,
    const int32_t[::1] person,
    const int32_t[::1] order,
    const int64_t[::1] cube_start,
    const int64_t[::1] cube_end,
    const double[:, ::1] corner,
    const double[:, ::1] centre,
    const int64_t[::1] own_start,
    const int64_t[::1] own_end,
    const int64_t[::1] own_time,
    const double[:, ::1] own_xyz,
    const double[::1] own_from_centre,
    int64_t period_start,
    int64_t period_end,
    int64_t window_us,
    double distance,
    int32_t skip_person,
    int64_t max_checks,
    int64_t[::1] encounters,
    int64_t[::1] first_seen,
    int64_t[::1] last_seen,
    double[::1] closest_squared,
) -> bool:
    """Adds, to the per-person totals, every other ping near an own ping; False if it gave up.

    The index's pings are ``time``, ``offset`` and ``person``; cube ``c`` holds those at positions
    ``order[cube_start[c]:cube_end[c]]`` (``order`` empty: the positions themselves), in time order, each
    at ``corner[c] + offset * 2^-25`` (the corner of the 50 m cube holding cube ``c``). Its own
    pings are ``own_*[own_start[c]:own_end[c]]``: in time order with a window (``window_us >= 0``), by their
    distance from the cube's ``centre`` (``own_from_centre``) without one.

    Near: in ``[period_start, period_end)``, within ``window_us`` of the own ping (inclusive) if there is a
    window, and the straight-line distance squared, as the SQL computes it ((dx*dx + dy*dy) + dz*dz), at
    most ``distance`` squared. ``skip_person`` (the person asking) is not counted. The totals are indexed
    by person and start as 0, the largest and smallest time, and infinity. After ``max_checks`` distance
    checks it stops and returns False: the request's bound on work, whatever its parameters.
    """
    cdef int64_t found = 0
    return max_checks >= _search(
        time, offset, person, order, cube_start, cube_end, corner, centre, own_start, own_end, own_time, own_xyz,
        own_from_centre, period_start, period_end, window_us, distance, skip_person, max_checks, False, _NONE,
        &found, encounters, first_seen, last_seen, closest_squared,
    )


# No positions to record (contacts), or no totals to add (connections).
cdef int64_t[::1] _NONE = np.empty(0, np.int64)
cdef double[::1] _NO_DOUBLES = np.empty(0, np.float64)


def near_pings(
    const int64_t[::1] time,
    const int32_t[:, ::1] offset,
    const int32_t[::1] person,
    const int32_t[::1] order,
    const int64_t[::1] cube_start,
    const int64_t[::1] cube_end,
    const double[:, ::1] corner,
    const double[:, ::1] centre,
    const int64_t[::1] own_start,
    const int64_t[::1] own_end,
    const int64_t[::1] own_time,
    const double[:, ::1] own_xyz,
    const double[::1] own_from_centre,
    int64_t period_start,
    int64_t period_end,
    int64_t window_us,
    double distance,
    int32_t skip_person,
    int64_t max_checks,
    int64_t[::1] near,
) -> tuple[int, int]:
    """The positions (in ``time``) of the other pings near an own ping, as :func:`add_contacts` finds them,
    written to ``near`` in no particular order: (the distance checks made, more than ``max_checks`` if it
    gave up; how many near pings there are). Only the first ``len(near)`` are written: the caller asks again
    with room for all when there are more."""
    cdef int64_t found = 0
    checks = _search(
        time, offset, person, order, cube_start, cube_end, corner, centre, own_start, own_end, own_time, own_xyz,
        own_from_centre, period_start, period_end, window_us, distance, skip_person, max_checks, True, near,
        &found, _NONE, _NONE, _NONE, _NO_DOUBLES,
    )
    return checks, found


cdef int64_t _search(
    const int64_t[::1] time,
    const int32_t[:, ::1] offset,
    const int32_t[::1] person,
    const int32_t[::1] order,
    const int64_t[::1] cube_start,
    const int64_t[::1] cube_end,
    const double[:, ::1] corner,
    const double[:, ::1] centre,
    const int64_t[::1] own_start,
    const int64_t[::1] own_end,
    const int64_t[::1] own_time,
    const double[:, ::1] own_xyz,
    const double[::1] own_from_centre,
    int64_t period_start,
    int64_t period_end,
    int64_t window_us,
    double distance,
    int32_t skip_person,
    int64_t max_checks,
    bint record,
    int64_t[::1] near,
    int64_t* found,
    int64_t[::1] encounters,
    int64_t[::1] first_seen,
    int64_t[::1] last_seen,
    double[::1] closest_squared,
) except -1:
    """Both entry points: record the near pings' positions (``record``) or add them to the totals. Returns
    the distance checks made: more than ``max_checks`` when it gave up."""
    cdef Py_ssize_t cubes = cube_start.shape[0], own_count = own_time.shape[0]
    if not (cube_end.shape[0] == cubes and own_start.shape[0] == cubes and own_end.shape[0] == cubes
            and centre.shape[0] == cubes and corner.shape[0] == cubes):
        raise ValueError("every array of the cubes must hold one entry per cube")
    if own_xyz.shape[0] != own_count or own_from_centre.shape[0] != own_count:
        raise ValueError("every array of the own pings must hold the same number of pings")
    if offset.shape[0] != time.shape[0] or person.shape[0] != time.shape[0]:
        raise ValueError("every array of the index must hold the same number of pings")
    cdef Py_ssize_t persons = encounters.shape[0]
    if not record and not (first_seen.shape[0] == persons and last_seen.shape[0] == persons
                           and closest_squared.shape[0] == persons):
        raise ValueError("every array of the totals must hold one entry per person")
    cdef int64_t checks = 0
    cdef Py_ssize_t c
    with nogil:
        for c in range(cubes):
            if window_us >= 0:
                checks = _in_window(
                    time, offset, person, order, cube_start[c], cube_end[c], corner[c, 0], corner[c, 1],
                    corner[c, 2], own_start[c], own_end[c], own_time,
                    own_xyz, period_start, period_end, window_us, distance, skip_person, checks,
                    record, near, found, encounters, first_seen, last_seen, closest_squared,
                )
            else:
                checks = _any_time(
                    time, offset, person, order, cube_start[c], cube_end[c], corner[c, 0], corner[c, 1],
                    corner[c, 2], centre[c, 0], centre[c, 1],
                    centre[c, 2], own_start[c], own_end[c], own_xyz, own_from_centre, period_start, period_end,
                    distance, skip_person, checks, record, near, found,
                    encounters, first_seen, last_seen, closest_squared,
                )
            if checks > max_checks:
                break
    return checks


cdef inline Py_ssize_t _at(const int32_t[::1] order, Py_ssize_t i) noexcept nogil:
    return order[i] if order.shape[0] else i


cdef Py_ssize_t _first_at_or_after(
    const int64_t[::1] time, const int32_t[::1] order, Py_ssize_t lo, Py_ssize_t hi, int64_t t
) noexcept nogil:
    """The first position in ``lo:hi`` (a cube, in time order) whose time is at least ``t``."""
    cdef Py_ssize_t mid
    while lo < hi:
        mid = lo + (hi - lo) // 2
        if time[_at(order, mid)] < t:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef Py_ssize_t _first_from(const double[::1] values, Py_ssize_t lo, Py_ssize_t hi, double least) noexcept nogil:
    """The first position in ``lo:hi`` (ascending values) whose value is at least ``least``."""
    cdef Py_ssize_t mid
    while lo < hi:
        mid = lo + (hi - lo) // 2
        if values[mid] < least:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef inline double _squared(double x, double y, double z, const double[:, ::1] own, Py_ssize_t j) noexcept nogil:
    cdef double dx = x - own[j, 0], dy = y - own[j, 1], dz = z - own[j, 2]
    return (dx * dx + dy * dy) + dz * dz


cdef inline void _record(Py_ssize_t k, int64_t[::1] near, int64_t* found) noexcept nogil:
    if found[0] < near.shape[0]:
        near[found[0]] = k
    found[0] += 1


cdef inline void _count(
    Py_ssize_t who, int64_t t, double squared,
    int64_t[::1] encounters, int64_t[::1] first_seen, int64_t[::1] last_seen, double[::1] closest_squared,
) noexcept nogil:
    encounters[who] += 1
    if t < first_seen[who]:
        first_seen[who] = t
    if t > last_seen[who]:
        last_seen[who] = t
    if squared < closest_squared[who]:
        closest_squared[who] = squared


cdef int64_t _in_window(
    const int64_t[::1] time, const int32_t[:, ::1] offset, const int32_t[::1] person, const int32_t[::1] order,
    Py_ssize_t start, Py_ssize_t end, double x0, double y0, double z0, Py_ssize_t own_lo, Py_ssize_t own_end,
    const int64_t[::1] own_time, const double[:, ::1] own_xyz,
    int64_t period_start, int64_t period_end, int64_t window_us, double distance, int32_t skip_person,
    int64_t checks, bint record, int64_t[::1] near, int64_t* found,
    int64_t[::1] encounters, int64_t[::1] first_seen, int64_t[::1] last_seen, double[::1] closest_squared,
) noexcept nogil:
    """One cube with a window: both sides in time order, so the own pings within the window of the other
    ping at ``i`` are ``own[lo:hi]``, and ``lo`` and ``hi`` only move forward."""
    if own_lo >= own_end:
        return checks
    cdef double limit = distance * distance, squared, best, x, y, z
    cdef Py_ssize_t i, j, k, hi = own_lo
    cdef int64_t t, earliest = own_time[own_lo] - window_us, latest = own_time[own_end - 1] + window_us
    i = _first_at_or_after(time, order, start, end, earliest if earliest > period_start else period_start)
    while i < end:
        k = _at(order, i)
        t = time[k]
        if t > latest or t >= period_end:
            break
        i += 1
        if person[k] == skip_person:
            continue
        while own_lo < own_end and own_time[own_lo] < t - window_us:
            own_lo += 1
        if hi < own_lo:
            hi = own_lo
        while hi < own_end and own_time[hi] <= t + window_us:
            hi += 1
        best = limit + 1.0
        x = x0 + offset[k, 0] * OFFSET_UNIT_M
        y = y0 + offset[k, 1] * OFFSET_UNIT_M
        z = z0 + offset[k, 2] * OFFSET_UNIT_M
        for j in range(own_lo, hi):
            squared = _squared(x, y, z, own_xyz, j)
            if squared < best:
                best = squared
        checks += hi - own_lo
        if best <= limit:
            if record:
                _record(k, near, found)
            else:
                _count(person[k], t, best, encounters, first_seen, last_seen, closest_squared)
    return checks


cdef int64_t _any_time(
    const int64_t[::1] time, const int32_t[:, ::1] offset, const int32_t[::1] person, const int32_t[::1] order,
    Py_ssize_t start, Py_ssize_t end, double x0, double y0, double z0, double cx, double cy, double cz,
    Py_ssize_t own_lo, Py_ssize_t own_end,
    const double[:, ::1] own_xyz, const double[::1] own_from_centre,
    int64_t period_start, int64_t period_end, double distance, int32_t skip_person, int64_t checks,
    bint record, int64_t[::1] near, int64_t* found,
    int64_t[::1] encounters, int64_t[::1] first_seen, int64_t[::1] last_seen, double[::1] closest_squared,
) noexcept nogil:
    """One cube without a window. The own pings are sorted by their distance from the cube's centre, and
    an own ping whose distance from it differs from the other ping's by more than r cannot be within r of
    it (triangle inequality): only a shell of the list is compared, first to find any own ping within the
    distance, then only those that could be closer than the person's closest so far."""
    if own_lo >= own_end:
        return checks
    cdef double limit = distance * distance, squared, bound, from_centre, dx, dy, dz, reach, x, y, z
    cdef Py_ssize_t i, j, k, lo
    cdef int64_t t
    cdef int32_t who
    i = _first_at_or_after(time, order, start, end, period_start)
    while i < end:
        k = _at(order, i)
        t = time[k]
        if t >= period_end:
            break
        i += 1
        who = person[k]
        if who == skip_person:
            continue
        x = x0 + offset[k, 0] * OFFSET_UNIT_M
        y = y0 + offset[k, 1] * OFFSET_UNIT_M
        z = z0 + offset[k, 2] * OFFSET_UNIT_M
        dx = x - cx
        dy = y - cy
        dz = z - cz
        from_centre = sqrt(dx * dx + dy * dy + dz * dz)
        # The shell of own pings that can be within the distance: from_centre - distance to + distance.
        lo = _first_from(own_from_centre, own_lo, own_end, from_centre - distance - BOUND_SLACK_M)
        reach = from_centre + distance + BOUND_SLACK_M
        j = lo
        bound = -1.0
        while j < own_end and own_from_centre[j] <= reach:
            squared = _squared(x, y, z, own_xyz, j)
            checks += 1
            j += 1
            if squared <= limit:
                bound = squared
                break
        if bound < 0.0:
            continue
        if record:
            # Only whether it is near: no closest distance to look for.
            _record(k, near, found)
            continue
        # Near. Closer than the closest so far can only be the own pings of the thinner shell around
        # from_centre, as thick as that distance; it thins as closer ones are found.
        if closest_squared[who] < bound:
            bound = closest_squared[who]
        lo = _first_from(own_from_centre, own_lo, own_end, from_centre - sqrt(bound) - BOUND_SLACK_M)
        reach = from_centre + sqrt(bound) + BOUND_SLACK_M
        j = lo
        while j < own_end and own_from_centre[j] <= reach:
            squared = _squared(x, y, z, own_xyz, j)
            checks += 1
            j += 1
            if squared < bound:
                bound = squared
                reach = from_centre + sqrt(bound) + BOUND_SLACK_M
        _count(who, t, bound, encounters, first_seen, last_seen, closest_squared)
    return checks
