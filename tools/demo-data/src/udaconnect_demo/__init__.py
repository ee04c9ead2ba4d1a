"""UdaConnect's demo conference: a realistic, deterministic generator of attendees and pings, and its loader."""

from udaconnect_demo.generator import (
    BENCH,
    SMALL,
    Bounds,
    Conference,
    ConferenceSpec,
    CsvCounts,
    DemoPerson,
    DemoPing,
    generate,
    write_csv,
)
from udaconnect_demo.loader import LoadError, LoadReport, already_loaded, load
from udaconnect_demo.stats import EncounterStats, encounter_stats

__all__ = [
    "BENCH",
    "SMALL",
    "Bounds",
    "Conference",
    "ConferenceSpec",
    "CsvCounts",
    "DemoPerson",
    "DemoPing",
    "EncounterStats",
    "LoadError",
    "LoadReport",
    "already_loaded",
    "encounter_stats",
    "generate",
    "load",
    "write_csv",
]
