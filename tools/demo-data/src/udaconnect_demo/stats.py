"""How much the demo data makes people meet: close pairs of pings, as the connection query would see them."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from udaconnect_demo import venue
from udaconnect_demo.generator import DemoPing


@dataclass(frozen=True, slots=True)
class EncounterStats:
    pings: int
    close_ping_pairs: int  # pings of two different people within the distance and the time window
    person_pairs: int  # distinct pairs of people with at least one such pair of pings
    persons_with_contacts: int  # people who met at least one other

    def __str__(self) -> str:
        return (
            f"{self.close_ping_pairs:,} close ping pairs, {self.person_pairs:,} pairs of people met, "
            f"{self.persons_with_contacts:,} people met someone"
        )


def encounter_stats(
    pings: Iterable[DemoPing],
    center_latitude: float,
    center_longitude: float,
    distance_m: float = 5.0,
    window_s: float = 60.0,
) -> EncounterStats:
    """Count pairs of pings of different people within ``distance_m`` and ``window_s`` of each other.

    A grid of ``distance_m`` cells by ``window_s`` time buckets: each ping is compared with the pings of
    its own and the neighbouring cells and buckets only. Meant for SMALL-sized data (memory grows with it).
    """
    lat_m, lon_m = venue.metres_per_degree(center_latitude)
    buckets: defaultdict[tuple[int, int, int], list[tuple[int, float, float, float]]] = defaultdict(list)
    count = 0
    for ping in pings:
        x = (ping.longitude - center_longitude) * lon_m
        y = (ping.latitude - center_latitude) * lat_m
        t = ping.creation_time.timestamp()
        buckets[(int(t // window_s), int(x // distance_m), int(y // distance_m))].append((ping.person_index, t, x, y))
        count += 1
    limit = distance_m * distance_m
    close = 0
    pairs: set[tuple[int, int]] = set()
    # Half of the 3x3x3 neighbourhood (plus the bucket itself): each pair of buckets is visited once.
    forward = [(dt, dx, dy) for dt in (-1, 0, 1) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if (dt, dx, dy) > (0, 0, 0)]
    for (bt, bx, by), members in buckets.items():
        for i, (pa, ta, xa, ya) in enumerate(members):
            for pb, tb, xb, yb in members[i + 1 :]:
                if pa != pb and abs(ta - tb) <= window_s and (xa - xb) ** 2 + (ya - yb) ** 2 <= limit:
                    close += 1
                    pairs.add((pa, pb) if pa < pb else (pb, pa))
        for dt, dx, dy in forward:
            others = buckets.get((bt + dt, bx + dx, by + dy))
            if not others:
                continue
            for pa, ta, xa, ya in members:
                for pb, tb, xb, yb in others:
                    if pa != pb and abs(ta - tb) <= window_s and (xa - xb) ** 2 + (ya - yb) ** 2 <= limit:
                        close += 1
                        pairs.add((pa, pb) if pa < pb else (pb, pa))
    met = {person for pair in pairs for person in pair}
    return EncounterStats(pings=count, close_ping_pairs=close, person_pairs=len(pairs), persons_with_contacts=len(met))
