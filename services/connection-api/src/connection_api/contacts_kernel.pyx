# The inner loop of contacts over a whole event, compiled (docs/architecture.md, "Contacts for a whole
# event"): a million pings cannot be classified by SQL or numpy in the time a user waits.
from libc.stdint cimport int32_t, int64_t


def near_in_window(
    const int64_t[::1] other_time,
    const double[:, ::1] other_xyz,
    const int32_t[::1] other_person,
    const int64_t[::1] own_time,
    const double[:, ::1] own_xyz,
    int64_t window_us,
    double distance,
    int64_t[::1] encounters,
    int64_t[::1] first_seen,
    int64_t[::1] last_seen,
    double[::1] closest_squared,
) -> None:
    """Adds the other pings near an own ping to the per-person totals (indexed by ``other_person``).

    Both sides are in time order, so the own pings within the window of other ping i are ``own[lo:hi]`` and
    ``lo`` and ``hi`` only move forward. Near: within ``window_us`` (inclusive) and the straight-line
    distance within ``distance``, squared as the SQL computes it ((dx*dx + dy*dy) + dz*dz). The totals
    start as 0, the largest and smallest time, and infinity.
    """
    cdef Py_ssize_t n = other_time.shape[0], m = own_time.shape[0]
    cdef Py_ssize_t i, j, lo = 0, hi = 0
    cdef int64_t t
    cdef int32_t who
    cdef double limit = distance * distance, x, y, z, dx, dy, dz, squared, best
    cdef bint near
    if other_xyz.shape[0] != n or other_person.shape[0] != n or own_xyz.shape[0] != m:
        raise ValueError("every array of a side must hold the same number of pings")
    with nogil:
        for i in range(n):
            t = other_time[i]
            while lo < m and own_time[lo] < t - window_us:
                lo += 1
            while hi < m and own_time[hi] <= t + window_us:
                hi += 1
            near = False
            best = closest_squared[other_person[i]]
            x = other_xyz[i, 0]
            y = other_xyz[i, 1]
            z = other_xyz[i, 2]
            for j in range(lo, hi):
                dx = x - own_xyz[j, 0]
                dy = y - own_xyz[j, 1]
                dz = z - own_xyz[j, 2]
                squared = dx * dx + dy * dy + dz * dz
                if squared <= limit:
                    near = True
                    if squared < best:
                        best = squared
            if near:
                who = other_person[i]
                encounters[who] += 1
                if t < first_seen[who]:
                    first_seen[who] = t
                if t > last_seen[who]:
                    last_seen[who] = t
                closest_squared[who] = best
