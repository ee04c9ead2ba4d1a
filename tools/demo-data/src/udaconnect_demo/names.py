"""Built-in name lists: demo attendees look like people, not ``user_17``.

The order of each tuple is part of the generator's output (people are drawn from it by index), so
append to a list rather than reorder it if the demo data of existing seeds must stay the same.
"""

FIRST_NAMES: tuple[str, ...] = (
    "Aisha", "Alejandro", "Amara", "Ana", "Andrei", "Anika", "Arjun", "Beatriz", "Ben", "Carlos",
    "Chen", "Chloe", "Daniel", "Dmitri", "Elena", "Emeka", "Emily", "Fatima", "Felix", "Grace",
    "Hana", "Hiroshi", "Ines", "Isabel", "Jamal", "James", "Jia", "Jonas", "Julia", "Kai",
    "Kwame", "Laura", "Leila", "Liam", "Lucas", "Maya", "Mei", "Miguel", "Nadia", "Noah",
    "Olga", "Omar", "Priya", "Rafael", "Ravi", "Rosa", "Sakura", "Samuel", "Sara", "Sofia",
    "Tariq", "Thomas", "Valentina", "Wei", "Yara", "Yusuf", "Zara", "Zoe",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Abara", "Adeyemi", "Alvarez", "Andersen", "Baptiste", "Becker", "Bianchi", "Chandra", "Chen", "Costa",
    "Dubois", "Eriksson", "Fernandes", "Fischer", "Garcia", "Gupta", "Haddad", "Hansen", "Ito", "Ivanova",
    "Jensen", "Johnson", "Kaur", "Kim", "Kowalski", "Kumar", "Larsen", "Lee", "Lopez", "Martin",
    "Mendes", "Moreau", "Murphy", "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Park", "Patel",
    "Petrov", "Quinn", "Rahman", "Rossi", "Sato", "Schmidt", "Silva", "Singh", "Smith", "Tanaka",
    "Torres", "Usman", "Varga", "Wagner", "Walker", "Wang", "Williams", "Yilmaz", "Zhang", "Zielinski",
)  # fmt: skip

# Company *i* < ``venue.BOOTH_COUNT`` (36) sponsors booth *i* on the expo floor; some of its people
# staff it for most of the day. Earlier entries are larger companies that send more attendees.
COMPANIES: tuple[str, ...] = (
    "Alpha Omega Upholstery", "Northwind Analytics", "Bluefin Robotics", "Cobalt Cloud", "Datapoint Labs",
    "Evergreen Health", "Fjord Systems", "Granite Security", "Helix Biotech", "Ironbark Logistics",
    "Juniper Payments", "Kestrel Aerospace", "Lumen Energy", "Maple Leaf Media", "Nimbus Networks",
    "Orchid Retail", "Pinnacle Insurance", "Quasar Games", "Redwood Capital", "Saffron Foods",
    "Tidewater Shipping", "Umbra Optics", "Vantage Mobility", "Willow Education", "Xenon Semiconductors",
    "Yellowstone Outdoor", "Zephyr Airlines", "Atlas Geospatial", "Beacon Legal", "Cinder Studios",
    "Driftwood Hotels", "Ember Telecom", "Falcon Freight", "Glacier Water", "Harbor Bank",
    "Indigo Fashion", "Jetstream Travel", "Keystone Construction", "Lighthouse Consulting", "Meridian Maps",
    "Nova Pharmaceuticals", "Oakridge Farms", "Polaris Satellites", "Quartz Accounting", "Riverbend Realty",
    "Sequoia Software", "Trailhead Apparel", "Unity Municipal Services",
)  # fmt: skip
