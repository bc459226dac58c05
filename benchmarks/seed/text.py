"""Names and prose for the seeded data: made once from the seeded random generator.

Prose comes from a pool of sentences built at the start, so a paragraph costs a few
choices rather than one per word: 300,000 sections are written in seconds.
"""

from __future__ import annotations

import random

# The 41 police force areas of England and Wales outside London, each with a Commissioner
# (or a mayor holding the Commissioner's functions).
AREAS = [
    "Avon and Somerset", "Bedfordshire", "Cambridgeshire and Peterborough", "Cheshire",
    "Cleveland", "Cumbria", "Derbyshire", "Devon and Cornwall", "Dorset", "Durham",
    "Dyfed-Powys", "Essex", "Gloucestershire", "Greater Manchester", "Gwent", "Hampshire",
    "Hertfordshire", "Humberside", "Kent", "Lancashire", "Leicestershire", "Lincolnshire",
    "Merseyside", "Norfolk", "North Wales", "North Yorkshire", "Northamptonshire",
    "Northumbria", "Nottinghamshire", "South Wales", "South Yorkshire", "Staffordshire",
    "Suffolk", "Surrey", "Sussex", "Thames Valley", "Warwickshire", "West Mercia",
    "West Midlands", "West Yorkshire", "Wiltshire",
]

_PLACE_START = ["Ash", "Brad", "Brook", "Castle", "Chester", "Clay", "Cold", "Craw", "Dun",
                "East", "Elm", "Fair", "Far", "Glen", "Green", "Hale", "High", "Holm", "King",
                "Lang", "Lee", "Long", "Mar", "Mill", "New", "North", "Oak", "Old", "Red",
                "Rich", "Salt", "Sand", "Shep", "South", "Stan", "Stone", "Sutton", "Thorn",
                "Wal", "West", "Whit", "Wick", "Wood", "York"]
_PLACE_END = ["borough", "bridge", "bury", "by", "caster", "chester", "cliffe", "combe", "dale",
              "den", "field", "ford", "gate", "ham", "hampton", "hill", "holme", "hurst", "ley",
              "mouth", "port", "stead", "stow", "thorpe", "ton", "wich", "wood", "worth"]
FIRST_NAMES = ["Alex", "Amira", "Ben", "Bethan", "Callum", "Chloe", "Dafydd", "Deepa", "Eleanor",
               "Emeka", "Fatima", "Finn", "Gareth", "Grace", "Hannah", "Harjit", "Isla", "Jack",
               "Jasmine", "Kai", "Leah", "Liam", "Megan", "Mohammed", "Niamh", "Noah", "Olivia",
               "Oscar", "Priya", "Rhys", "Ruth", "Sam", "Sian", "Tom", "Uzma", "Will", "Zara"]
LAST_NAMES = ["Ahmed", "Baker", "Clarke", "Davies", "Evans", "Fletcher", "Green", "Hughes",
              "Iqbal", "Jones", "Khan", "Lewis", "Morgan", "Nowak", "Owen", "Patel", "Quinn",
              "Roberts", "Singh", "Taylor", "Walker", "Williams", "Wright", "Young"]

ISSUES = ["anti_social_behaviour", "road_safety", "bike_theft", "fly_tipping", "vawg", "youth",
          "other"]
ACTIONS = ["Safer streets patrols", "Youth diversion sessions", "Cycle marking events",
           "CCTV upgrade", "Fly-tipping deterrence", "Street lighting improvements",
           "Night-time economy marshals", "Community speed watch", "Knife crime education",
           "Domestic abuse awareness", "Neighbourhood clean-up days", "Safe spaces for women",
           "Detached youth work", "Anti-social behaviour mediation", "Scam awareness visits",
           "Alleyway gating", "Taxi marshal scheme", "Boxing club outreach",
           "Rural crime watch", "Shop theft prevention"]
PLACES = ["the town centre", "the estate", "the park", "the seafront", "the high street",
          "the station area", "the villages", "the market square", "the retail park",
          "the riverside", "the college campus", "the leisure centre"]
BUDGET_ITEMS = [("Signage", "capital"), ("Cameras", "capital"), ("Lighting", "capital"),
                ("Equipment", "capital"), ("Cycle marking kits", "capital"),
                ("Youth workers", "revenue"), ("Venue hire", "revenue"),
                ("Project officer", "revenue"), ("Leaflets and publicity", "revenue"),
                ("Training", "revenue"), ("Marshal shifts", "revenue"),
                ("Clearance days", "revenue"), ("Volunteer expenses", "revenue"),
                ("Evaluation", "revenue")]
MEASURES = ["Incidents reported", "Young people engaged", "Bikes marked", "Sites cleared",
            "Residents reached", "Sessions delivered", "Repeat victims supported",
            "Referrals made", "Volunteers trained", "Reports of anti-social behaviour"]
HOW_MEASURED = ["Police incident data", "Council records", "Attendance registers",
                "Partner returns", "Resident survey", "Project records"]

_SUBJECTS = ["Residents", "Local councillors", "Neighbourhood officers", "Shop owners",
             "Young people", "Parents", "Youth workers", "Parish councils", "Housing officers",
             "Community groups", "The fire service", "School staff", "Taxi drivers",
             "Victim support workers"]
_VERBS = ["report", "have raised", "describe", "continue to see", "have recorded",
          "are worried about", "want action on", "have asked us to tackle", "have mapped",
          "have seen a rise in"]
_OBJECTS = ["anti-social behaviour after dark", "repeated thefts of bicycles",
            "fly-tipping in back lanes", "speeding on residential roads",
            "groups gathering near the shops", "harassment of women at night",
            "damage to bus shelters", "drug dealing near the park", "noise and nuisance",
            "vehicle crime in car parks", "shoplifting by young people", "littering and graffiti"]
_TAILS = ["over the last twelve months", "since the summer", "at weekends",
          "in the evenings", "near the railway station", "in the town centre",
          "around the secondary school", "across the whole district",
          "according to police data", "in our latest survey"]


def place_names(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct invented place names."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = rng.choice(_PLACE_START) + rng.choice(_PLACE_END)
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


class Prose:
    """Sentences made once; paragraphs of a few of them on demand."""

    def __init__(self, rng: random.Random, sentences: int = 3000) -> None:
        self.rng = rng
        self.sentences = [
            f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} "
            f"{rng.choice(_TAILS)}." for _ in range(sentences)]

    def paragraph(self, low: int, high: int, limit: int) -> str:
        """Between ``low`` and ``high`` sentences, cut to ``limit`` characters at most."""
        count = self.rng.randint(low, high)
        return " ".join(self.rng.choices(self.sentences, k=count))[:limit].strip()

    def sentence(self) -> str:
        return self.rng.choice(self.sentences)
