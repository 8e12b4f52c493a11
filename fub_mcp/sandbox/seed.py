"""The seeded brokerage: deterministic (fixed RNG seed), with every date relative to the seeding time.

"Sandbox Realty" (Austin, TX; account time zone America/Chicago): an owner, four agents and a lender,
FUB's standard person stages, a Buyers and a Sellers deal pipeline, custom fields (text, date,
dropdown, number), ~300 people with varied sources, stages, tags, emails and phones (a few share a
phone, some are in Trash), lead events of every type with property objects, notes, calls, texts,
tasks due in the past/today/future, appointments, deals in both pipelines, smart lists and action
plans. `lastActivity` of every person is the time of their latest event, call, text or note.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fub_mcp.sandbox._util import account_tz, fmt_ts, norm_phone
from fub_mcp.sandbox.constants import AGENT_USER_ID, OWNER_USER_ID

__all__ = ["SEED", "build_seed"]

SEED = 20240517
PEOPLE = 300
DOMAIN = "sandbox-realty.example"

USERS = [
    # id, first, last, role, isOwner
    (OWNER_USER_ID, "Olivia", "Owner", "Broker", True),
    (AGENT_USER_ID, "Marcus", "Reed", "Agent", False),
    (3, "Priya", "Shah", "Agent", False),
    (4, "Diego", "Alvarez", "Agent", False),
    (5, "Hannah", "Cole", "Agent", False),
    (6, "Lena", "Brooks", "Lender", False),
]
AGENT_IDS = [2, 3, 4, 5]
LENDER_ID = 6

STAGES = [
    # name, protected
    ("Lead", True),
    ("Prospect", False),
    ("Active Client", False),
    ("Under Contract", False),
    ("Closed", False),
    ("Past Client", False),
    ("Sphere", False),
    ("Unresponsive", False),
    ("Trash", True),
]
STAGE_WEIGHTS = {
    "Lead": 34,
    "Prospect": 15,
    "Active Client": 12,
    "Under Contract": 5,
    "Closed": 5,
    "Past Client": 8,
    "Sphere": 8,
    "Unresponsive": 7,
    "Trash": 6,
}

PIPELINES = [
    (
        "Buyers",
        "Buyer transactions, from consultation to closing",
        [
            ("Buyer Consultation", "#9dc3e6", False),
            ("Showing Homes", "#5b9bd5", False),
            ("Offer Submitted", "#ffc000", False),
            ("Under Contract", "#ed7d31", False),
            ("Closed", "#70ad47", True),
        ],
    ),
    (
        "Sellers",
        "Listings, from listing appointment to closing",
        [
            ("Listing Appointment", "#c9c9c9", False),
            ("Pre-Listing", "#a5a5a5", False),
            ("Active Listing", "#4472c4", False),
            ("Under Contract", "#ed7d31", False),
            ("Closed", "#70ad47", True),
        ],
    ),
]

CUSTOM_FIELDS = [
    # label, type, choices, isRecurring
    ("Closing Date", "date", [], False),
    ("Birthday", "date", [], True),
    ("Lead Grade", "dropdown", ["A", "B", "C", "D"], False),
    ("Preferred Neighborhood", "text", [], False),
    ("Lead Score", "number", [], False),  # for AI lead scoring (written later)
    ("Lead Score Reason", "text", [], False),
]
DEAL_CUSTOM_FIELDS = [
    # label, type, choices
    ("Close Price", "number", []),
    ("Lender", "text", []),
    ("Financing", "dropdown", ["Cash", "Conventional", "FHA", "VA"]),
]

SMART_LISTS = [
    ("Hot Leads", "People tagged Hot Lead", {"tags": "Hot Lead"}),
    (
        "New Leads This Week",
        "Stage Lead, created in the last 7 days",
        {"stage": "Lead", "createdWithinDays": 7},
    ),
    ("Zillow Buyers", "Buyers from Zillow", {"source": "Zillow", "tags": "Buyer"}),
    ("Under Contract", "Everyone under contract", {"stage": "Under Contract"}),
]

ACTION_PLANS = [
    ("New Buyer Lead Nurture", "Calls, texts and emails for the first 30 days of a buyer lead"),
    ("Seller Listing Follow-up", "Follow-up sequence after a listing appointment"),
    ("Past Client Check-ins", "Quarterly check-ins with past clients"),
]

APPOINTMENT_TYPES = ["Showing", "Listing Appointment", "Buyer Consultation", "Closing", "Open House"]
APPOINTMENT_OUTCOMES = ["Met", "No Show", "Rescheduled", "Cancelled"]

FIRST = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Carlos Karen Daniel Nancy Matthew Lisa Anthony Betty Mark Sandra Steven "
    "Ashley Andrew Emily Joshua Michelle Kevin Amanda Brian Melissa Jose Stephanie Ryan Rebecca Jacob Laura "
    "Nicole Aisha Wei Mei Raj Anita Luis Sofia Omar Fatima Tyler Hannah Ethan Grace Noah Chloe Liam Zoe "
    "Mateo Valentina Hiro Yuki Kwame Amara"
).split()
LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
    "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
    "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Patel Kim Chen Singh Okafor Haddad Novak "
    "Schmidt Rossi Tanaka Silva Dubois Kowalski Mensah Cohen Murphy Bailey"
).split()
EMAIL_DOMAINS = ["example.com", "example.net", "example.org", "mail.example.com", "inbox.example.net"]
AREA_CODES = ["512", "737", "210", "214", "469", "713", "832", "254"]

SOURCES = {
    "Zillow": 22,
    "Realtor.com": 13,
    "Website": 17,
    "Open House": 8,
    "Referral": 10,
    "Facebook": 10,
    "Google Ads": 6,
    "Sign Call": 4,
    "Past Client": 4,
    "Homes.com": 6,
}
EXTRA_TAGS = [
    "Investor",
    "First-time buyer",
    "Relocation",
    "Luxury",
    "Pre-approved",
    "Downsizing",
    "Hot Lead",
    "Renter",
    "VA Loan",
    "Cash Buyer",
]
CITIES = [
    ("Austin", ["78701", "78704", "78745", "78751", "78757"]),
    ("Round Rock", ["78664", "78681"]),
    ("Cedar Park", ["78613"]),
    ("Pflugerville", ["78660"]),
    ("Georgetown", ["78626", "78628"]),
    ("Leander", ["78641"]),
    ("Buda", ["78610"]),
]
STREETS = [
    "High Oak St",
    "Barton Springs Rd",
    "Congress Ave",
    "Lamar Blvd",
    "Burnet Rd",
    "Riverside Dr",
    "Manchaca Rd",
    "Brodie Ln",
    "Parmer Ln",
    "Anderson Mill Rd",
    "Slaughter Ln",
    "Wells Branch Pkwy",
    "Bee Cave Rd",
    "Red Bud Trl",
    "Cypress Creek Rd",
    "Whitestone Blvd",
    "Mopac Expy",
    "Oltorf St",
]
NEIGHBORHOODS = [
    "Hyde Park",
    "Zilker",
    "Mueller",
    "Travis Heights",
    "Tarrytown",
    "Circle C",
    "Allandale",
    "Crestview",
    "Brushy Creek",
    "Steiner Ranch",
]
PROPERTY_TYPES = ["Single-Family Home", "Condo", "Townhouse", "Multi-Family", "Land"]

INQUIRY_MESSAGES = [
    "I would like more information about {addr}.",
    "Is {addr} still available? Can I see it this weekend?",
    "What are the HOA fees for {addr}?",
    "We're relocating in the spring and love {addr}. Could we schedule a showing?",
]
GENERAL_MESSAGES = [
    "We're thinking about buying in the next 6 months and would like to talk.",
    "Can you send me homes under $500k near good schools?",
    "Looking to downsize, what is my house worth?",
    "Please contact me about investment properties.",
]
NOTE_TEXTS = [
    ("Call recap", "Discussed timeline and budget. Pre-approval in progress; wants 3 bed, 2 bath."),
    ("Showing feedback", "Liked the kitchen, worried about road noise. Wants to see two more this weekend."),
    ("Listing consult", "Walked the house; suggested fresh paint and staging. CMA to follow."),
    ("Follow up", "Left voicemail and sent a text. Will try again Thursday."),
    ("Financing", "Connected with Lena for pre-approval. Budget up to {price}."),
    ("Personal", "Has two kids, prefers a quiet street; works downtown."),
]
CALL_NOTES = [
    "Talked about new listings in their price range.",
    "Left a voicemail.",
    "Wants to tour on Saturday.",
    "Not ready yet; check back next month.",
    "Asked about the market in their neighborhood.",
]
OUTCOMES_OUT = [
    "Interested",
    "Left Message",
    "No Answer",
    "Left Message",
    "Not Interested",
    "Busy",
    "Interested",
]
TEXTS_OUT = [
    "Hi {first}, this is {agent} with Sandbox Realty. Are you still looking for a home?",
    "Hi {first}, a new listing just hit the market that matches what you want. Want to see it?",
    "Thanks for chatting today, {first}! I'll send over a few options tonight.",
    "Hi {first}, just checking in. Anything I can help with?",
]
TEXTS_IN = [
    "Yes, still looking! Can we see something this weekend?",
    "Thanks, I'll take a look.",
    "Can you call me after 5?",
    "Not right now, maybe in a couple of months.",
    "Sounds great!",
]
TASKS = [
    ("Call", "Call back"),
    ("Follow Up", "Follow up on showing"),
    ("Email", "Send CMA"),
    ("Text", "Text new listings"),
    ("Showing", "Confirm showing time"),
    ("Closing", "Prep closing docs"),
    ("Thank You", "Send thank-you card"),
    ("Open House", "Invite to open house"),
    ("Appointment", "Book consult"),
]

EVENT_TYPES_FOR_SOURCE = {
    "Zillow": ["Property Inquiry", "Property Inquiry", "Seller Inquiry"],
    "Realtor.com": ["Property Inquiry", "Property Inquiry", "General Inquiry"],
    "Homes.com": ["Property Inquiry", "Registration"],
    "Website": ["Registration", "Registration", "General Inquiry", "Seller Inquiry"],
    "Facebook": ["Registration", "General Inquiry"],
    "Google Ads": ["Registration", "General Inquiry"],
    "Open House": ["Visited Open House"],
    "Sign Call": ["Incoming Call"],
    "Referral": ["General Inquiry"],
    "Past Client": ["General Inquiry"],
}
ACTIVITY_TYPES = [
    ("Viewed Property", 30),
    ("Saved Property", 10),
    ("Visited Website", 15),
    ("Property Search", 10),
    ("Saved Property Search", 5),
    ("Viewed Page", 8),
    ("Property Inquiry", 6),
    ("General Inquiry", 3),
    ("Unsubscribed", 1),
]


def custom_name(label: str) -> str:
    """FUB's convention: `custom` + the label in PascalCase without spaces or punctuation."""
    words = "".join(c if c.isalnum() else " " for c in label).split()
    return "custom" + "".join(w[:1].upper() + w[1:] for w in words)


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class _Builder:
    def __init__(self, now: datetime) -> None:
        self.now = now.replace(microsecond=0)
        self.rng = random.Random(SEED)
        self.tz = account_tz()
        self.tables: dict[str, list[dict[str, Any]]] = {}

    # helpers --------------------------------------------------------------------------------------

    def ts(self, when: datetime) -> str:
        return fmt_ts(min(when, self.now))

    def between(self, start: datetime, end: datetime) -> datetime:
        if end <= start:
            return start
        return start + timedelta(seconds=self.rng.uniform(0, (end - start).total_seconds()))

    def ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    def address(self) -> dict[str, Any]:
        city, codes = self.rng.choice(CITIES)
        return {
            "street": f"{self.rng.randint(100, 9999)} {self.rng.choice(STREETS)}",
            "city": city,
            "state": "TX",
            "code": self.rng.choice(codes),
        }

    def property(self, *, seller: bool = False) -> dict[str, Any]:
        addr = self.address()
        kind = self.rng.choice(PROPERTY_TYPES)
        mls = str(self.rng.randint(1000000, 9999999))
        slug = f"{addr['street']} {addr['city']}".lower().replace(" ", "-")
        return {
            **addr,
            "mlsNumber": None if seller else mls,
            "price": self.rng.randrange(185_000, 1_450_000, 5_000),
            "forRent": (not seller) and self.rng.random() < 0.05,
            "url": None if seller else f"https://listings.{DOMAIN}/property/{mls}-{slug}",
            "type": kind,
            "bedrooms": self.rng.randint(1, 5),
            "bathrooms": self.rng.choice([1, 1.5, 2, 2, 2.5, 3, 3.5]),
            "area": self.rng.randrange(650, 4200, 10),
            "lot": round(self.rng.uniform(0.05, 1.2), 2) if kind != "Condo" else 0,
        }

    # tables ---------------------------------------------------------------------------------------

    def build(self) -> dict[str, list[dict[str, Any]]]:
        self.users()
        self.stages()
        self.pipelines()
        self.custom_fields()
        self.deal_custom_fields()
        self.smart_lists()
        self.action_plans()
        self.appointment_meta()
        self.people()
        self.activity()
        self.deals()
        self.action_plan_people()
        self.rollups()
        return self.tables

    def users(self) -> None:
        start = self.ago(1200)
        users = []
        for index, (uid, first, last, role, owner) in enumerate(USERS):
            created = self.ts(start + timedelta(days=index * 37))
            users.append(
                {
                    "id": uid,
                    "created": created,
                    "updated": created,
                    "name": f"{first} {last}",
                    "firstName": first,
                    "lastName": last,
                    "email": f"{first.lower()}.{last.lower()}@{DOMAIN}",
                    "phone": f"(512) 555-01{10 + uid:02d}",
                    "role": role,
                    "status": "Active",
                    "timezone": "America/Chicago",
                    "beta": False,
                    "isOwner": owner,
                    "leadEmailAddress": f"{first.lower()}@leads.{DOMAIN}",
                    "groups": [{"id": 1, "name": "Lenders" if role == "Lender" else "Agents"}]
                    if not owner
                    else [],
                }
            )
        self.tables["users"] = users

    def stages(self) -> None:
        created = self.ts(self.ago(1200))
        self.tables["stages"] = [
            {
                "id": i,
                "created": created,
                "updated": created,
                "name": name,
                "orderWeight": i * 1000,
                "isProtected": protected,
            }
            for i, (name, protected) in enumerate(STAGES, start=1)
        ]
        self.stage_ids = {s["name"]: s["id"] for s in self.tables["stages"]}

    def pipelines(self) -> None:
        created = self.ts(self.ago(1100))
        pipelines, stage_id = [], 0
        self.deal_stages: dict[str, list[dict[str, Any]]] = {}
        for pid, (name, description, stages) in enumerate(PIPELINES, start=1):
            items = []
            for weight, (stage_name, color, closed) in enumerate(stages, start=1):
                stage_id += 1
                items.append(
                    {
                        "id": stage_id,
                        "name": stage_name,
                        "description": "",
                        "orderWeight": weight * 1000,
                        "color": color,
                        "closedStage": closed,
                        "pipelineId": pid,
                    }
                )
            self.deal_stages[name] = items
            pipelines.append(
                {
                    "id": pid,
                    "created": created,
                    "updated": created,
                    "name": name,
                    "description": description,
                    "orderWeight": pid * 1000,
                    "stages": items,
                }
            )
        self.tables["pipelines"] = pipelines

    def custom_fields(self) -> None:
        created = self.ts(self.ago(1000))
        self.tables["customfields"] = [
            {
                "id": i,
                "created": created,
                "updated": created,
                "label": label,
                "name": custom_name(label),
                "type": kind,
                "choices": choices,
                "isRecurring": recurring,
                "hideIfEmpty": False,
                "orderWeight": i * 1000,
            }
            for i, (label, kind, choices, recurring) in enumerate(CUSTOM_FIELDS, start=1)
        ]

    def deal_custom_fields(self) -> None:
        created = self.ts(self.ago(1000))
        self.tables["dealcustomfields"] = [
            {"id": i, "created": created, "updated": created, "label": label, "name": custom_name(label),
             "type": kind, "choices": choices, "isRecurring": False, "hideIfEmpty": False, "orderWeight": i * 1000}
            for i, (label, kind, choices) in enumerate(DEAL_CUSTOM_FIELDS, start=1)
        ]

    def smart_lists(self) -> None:
        self.tables["smartlists"] = [
            {
                "id": i,
                "name": name,
                "description": description,
                "isFub2": False,
                "defaultSmartListId": None,
                "_filter": query,
            }
            for i, (name, description, query) in enumerate(SMART_LISTS, start=1)
        ]

    def action_plans(self) -> None:
        created = self.ts(self.ago(900))
        self.tables["actionplans"] = [
            {
                "id": i,
                "created": created,
                "updated": created,
                "name": name,
                "description": description,
                "status": "Active",
            }
            for i, (name, description) in enumerate(ACTION_PLANS, start=1)
        ]

    def appointment_meta(self) -> None:
        self.tables["appointmenttypes"] = [
            {"id": i, "name": name, "orderWeight": i * 1000}
            for i, name in enumerate(APPOINTMENT_TYPES, start=1)
        ]
        self.tables["appointmentoutcomes"] = [
            {"id": i, "name": name, "orderWeight": i * 1000}
            for i, name in enumerate(APPOINTMENT_OUTCOMES, start=1)
        ]

    def people(self) -> None:
        rng = self.rng
        users = {u["id"]: u for u in self.tables["users"]}
        created_times = sorted(self.ago(540 * rng.random() ** 1.7 + 0.05) for _ in range(PEOPLE))
        names: set[tuple[str, str]] = set()
        phones_used: set[str] = set()
        people = []
        for pid, created in enumerate(created_times, start=1):
            while True:
                first, last = rng.choice(FIRST), rng.choice(LAST)
                if (first, last) not in names:
                    names.add((first, last))
                    break
            source = _weighted(rng, SOURCES)
            stage = _weighted(rng, STAGE_WEIGHTS)
            if created > self.ago(5) and stage not in ("Lead", "Trash"):
                stage = "Lead"
            seller = rng.random() < 0.25
            tags = (["Seller"] if seller else ["Buyer"]) + (
                ["Buyer"] if seller and rng.random() < 0.2 else []
            )
            tags += rng.sample(EXTRA_TAGS, k=rng.choice([0, 0, 1, 1, 2]))
            emails = []
            if rng.random() < 0.9:
                emails.append(
                    {
                        "value": f"{first}.{last}{rng.choice(['', '', str(pid % 97)])}@"
                        f"{rng.choice(EMAIL_DOMAINS)}".lower(),
                        "type": "home",
                    }
                )
                if rng.random() < 0.15:
                    emails.append({"value": f"{first[0]}{last}@work.example.com".lower(), "type": "work"})
            phones = []
            if rng.random() < 0.85:
                while True:
                    number = f"({rng.choice(AREA_CODES)}) 555-01{rng.randint(0, 99):02d}"
                    if number not in phones_used:
                        phones_used.add(number)
                        break
                phones.append({"value": number, "type": rng.choice(["mobile", "mobile", "home", "work"])})
            roll = rng.random()
            assigned = None if roll < 0.05 else OWNER_USER_ID if roll < 0.15 else rng.choice(AGENT_IDS)
            contacted = 0 if stage == "Lead" and rng.random() < 0.6 else 1
            if stage in ("Unresponsive", "Trash"):
                contacted = int(rng.random() < 0.5)
            lender = (
                LENDER_ID
                if (not seller and stage in ("Active Client", "Under Contract") and rng.random() < 0.5)
                else None
            )
            person: dict[str, Any] = {
                "id": pid,
                "created": self.ts(created),
                "updated": self.ts(self.between(created, min(self.now, created + timedelta(days=30)))),
                "createdVia": (
                    "API"
                    if source not in ("Referral", "Open House", "Sign Call", "Past Client")
                    else "Manually"
                ),
                "lastActivity": None,
                "name": f"{first} {last}",
                "firstName": first,
                "lastName": last,
                "stage": stage,
                "stageId": self.stage_ids[stage],
                "source": source,
                "sourceUrl": (
                    f"https://leads.{DOMAIN}/{source.lower().replace('.', '')}/{100000 + pid}"
                    if source in ("Zillow", "Realtor.com", "Homes.com", "Website")
                    else None
                ),
                "contacted": contacted,
                "price": rng.randrange(180_000, 1_250_000, 5_000) if rng.random() < 0.8 else 0,
                "assignedLenderId": lender,
                "assignedLenderName": users[lender]["name"] if lender else None,
                "assignedUserId": assigned,
                "assignedPondId": None,
                "assignedTo": users[assigned]["name"] if assigned else None,
                "tags": tags,
                "emails": emails,
                "phones": phones,
                "addresses": [],
                "picture": None,
                "background": None,
                "collaborators": [],
                "timeframeId": None,
            }
            if rng.random() < 0.4 or seller:
                person["addresses"] = [{"type": "home", **self.address(), "country": "United States"}]
            if rng.random() < 0.2:
                person["background"] = rng.choice(
                    [
                        "Referred by a past client.",
                        "Relocating from California for work.",
                        "Met at the Zilker open house.",
                        "Looking for a rental property to invest in.",
                    ]
                )
            if assigned in AGENT_IDS and rng.random() < 0.05:
                other = rng.choice([a for a in AGENT_IDS if a != assigned])
                person["collaborators"] = [
                    {"id": other, "name": users[other]["name"], "assigned": False, "role": "Agent"}
                ]
            if rng.random() < 0.6:
                person["customLeadGrade"] = rng.choice(["A", "B", "B", "C", "C", "D"])
            if stage == "Under Contract":
                person["customClosingDate"] = (
                    (self.now + timedelta(days=rng.randint(7, 45))).date().isoformat()
                )
            elif stage in ("Closed", "Past Client"):
                person["customClosingDate"] = (
                    (created + timedelta(days=rng.randint(20, 120))).date().isoformat()
                )
            if rng.random() < 0.25:
                person["customBirthday"] = date(
                    rng.randint(1955, 2000), rng.randint(1, 12), rng.randint(1, 28)
                ).isoformat()
            if not seller and rng.random() < 0.3:
                person["customPreferredNeighborhood"] = rng.choice(NEIGHBORHOODS)
            people.append(person)
        # a few households share a phone (same number, different person): not duplicates by FUB's rule
        with_phone = [p for p in people if p["phones"]]
        for person in rng.sample([p for p in people if not p["phones"]], k=6):
            partner = rng.choice(with_phone)
            person["phones"] = [{"value": partner["phones"][0]["value"], "type": "home"}]
        for person in people:
            for i, email in enumerate(person["emails"]):
                email.update(status="Not Validated", isPrimary=1 if i == 0 else 0)
            for i, phone in enumerate(person["phones"]):
                phone.update(
                    normalized=norm_phone(phone["value"]),
                    status="Not Validated",
                    isPrimary=1 if i == 0 else 0,
                )
        self.tables["people"] = people

    def activity(self) -> None:
        rng = self.rng
        users = {u["id"]: u for u in self.tables["users"]}
        events, notes, calls, texts, tasks, appointments = [], [], [], [], [], []
        today = self.now.astimezone(self.tz).date()
        for person in self.tables["people"]:
            created = datetime.fromisoformat(person["created"].replace("Z", "+00:00"))
            seller = "Seller" in person["tags"]
            agent_id = person["assignedUserId"] or OWNER_USER_ID
            agent = users[agent_id]
            first_type = rng.choice(EVENT_TYPES_FOR_SOURCE[person["source"]])
            if first_type == "Property Inquiry" and seller:
                first_type = "Seller Inquiry"
            events.append(self.event(person, first_type, created))
            active = person["stage"] not in ("Trash", "Unresponsive", "Sphere")
            for _ in range(rng.randint(0, 7 if active else 2)):
                kind = rng.choices([t for t, _ in ACTIVITY_TYPES], [w for _, w in ACTIVITY_TYPES])[0]
                start = max(created, self.ago(120)) if rng.random() < 0.7 else created
                events.append(self.event(person, kind, self.between(start, self.now)))
            if not person["contacted"]:
                continue
            for _ in range(rng.randint(0, 3)):
                subject, body = rng.choice(NOTE_TEXTS)
                when = self.between(created, self.now)
                notes.append(
                    {
                        "created": self.ts(when),
                        "updated": self.ts(when),
                        "createdBy": agent["name"],
                        "updatedBy": agent["name"],
                        "createdById": agent_id,
                        "updatedById": agent_id,
                        "personId": person["id"],
                        "subject": subject,
                        "body": body.format(price=f"${person['price'] or 450000:,}"),
                        "type": "Note",
                        "isHtml": False,
                    }
                )
            phone = person["phones"][0]["value"] if person["phones"] else None
            for _ in range(rng.randint(0, 4) if phone else 0):
                when = self.between(created, self.now)
                incoming = rng.random() < 0.3
                outcome = None if incoming else rng.choice(OUTCOMES_OUT)
                talked = incoming or outcome in ("Interested", "Not Interested")
                calls.append(
                    {
                        "created": self.ts(when),
                        "updated": self.ts(when),
                        "createdById": agent_id,
                        "updatedById": agent_id,
                        "personId": person["id"],
                        "phone": phone,
                        "userId": agent_id,
                        "userName": agent["name"],
                        "note": rng.choice(CALL_NOTES),
                        "outcome": outcome,
                        "isIncoming": incoming,
                        "duration": rng.randint(60, 900) if talked else rng.randint(0, 40),
                        "ringDuration": rng.randint(3, 25),
                        "recordingUrl": None,
                        "toNumber": agent["phone"] if incoming else phone,
                        "fromNumber": phone if incoming else agent["phone"],
                    }
                )
            when = self.between(created, self.now)
            for index in range(rng.randint(0, 6) if phone else 0):
                incoming = index % 2 == 1
                when = min(self.now, when + timedelta(minutes=rng.randint(2, 60 * 24 * 6)))
                message = (
                    rng.choice(TEXTS_IN)
                    if incoming
                    else rng.choice(TEXTS_OUT).format(first=person["firstName"], agent=agent["firstName"])
                )
                texts.append(
                    {
                        "created": self.ts(when),
                        "updated": self.ts(when),
                        "createdById": agent_id,
                        "updatedById": agent_id,
                        "personId": person["id"],
                        "name": person["name"],
                        "firstName": person["firstName"],
                        "lastName": person["lastName"],
                        "userId": agent_id,
                        "userName": agent["name"],
                        "status": "Received" if incoming else "Delivered",
                        "message": message,
                        "fromNumber": phone if incoming else agent["phone"],
                        "toNumber": agent["phone"] if incoming else phone,
                        "sent": self.ts(when),
                        "isIncoming": incoming,
                        "archived": False,
                        "read": True,
                        "sharedInboxId": None,
                        "actionPlanId": None,
                        "groupTextId": None,
                        "isExternal": False,
                        "externalUrl": None,
                        "externalLabel": None,
                        "systemId": None,
                        "systemName": None,
                        "media": [],
                    }
                )
            if person["stage"] != "Trash" and rng.random() < 0.6:
                for _ in range(rng.randint(1, 2)):
                    tasks.append(self.task(person, agent, today))
        # appointments: agents with their people, past (with outcomes) and upcoming
        candidates = [
            p
            for p in self.tables["people"]
            if p["stage"] in ("Prospect", "Active Client", "Under Contract") and p["assignedUserId"]
        ]
        for person in rng.sample(candidates, k=min(48, len(candidates))):
            agent = users[person["assignedUserId"]]
            start_local = datetime.combine(
                today + timedelta(days=rng.randint(-30, 21)),
                time(rng.choice([9, 10, 11, 13, 14, 15, 16, 17]), rng.choice([0, 30])),
                self.tz,
            )
            start = start_local.astimezone(UTC)
            type_id = 2 if "Seller" in person["tags"] else rng.choice([1, 1, 1, 3, 5])
            past = start < self.now
            outcome_id = rng.choice([1, 1, 1, 2, 3]) if past else None
            created = min(self.now, start - timedelta(days=rng.randint(1, 10)))
            first = self.tables["appointmenttypes"][type_id - 1]["name"]
            appointments.append(
                {
                    "created": self.ts(created),
                    "updated": self.ts(created),
                    "createdById": agent["id"],
                    "updatedById": agent["id"],
                    "title": f"{first} with {person['name']}",
                    "description": "",
                    "start": fmt_ts(start),
                    "end": fmt_ts(start + timedelta(hours=1)),
                    "allDay": False,
                    "originFub": True,
                    "location": f"{self.address()['street']}, Austin, TX",
                    "invitees": [
                        {"userId": agent["id"], "name": agent["name"], "email": agent["email"]},
                        {
                            "personId": person["id"],
                            "name": person["name"],
                            "email": person["emails"][0]["value"] if person["emails"] else None,
                        },
                    ],
                    "typeId": type_id,
                    "type": first,
                    "outcomeId": outcome_id,
                    "outcome": APPOINTMENT_OUTCOMES[outcome_id - 1] if outcome_id else None,
                    "externalEventLink": None,
                    "externalCalendarId": None,
                    "isEditable": True,
                    "detailsVisible": True,
                }
            )
        for table, rows in (
            ("events", events),
            ("notes", notes),
            ("calls", calls),
            ("textmessages", texts),
            ("tasks", tasks),
            ("appointments", appointments),
        ):
            rows.sort(key=lambda r: r["created"])
            for row_id, row in enumerate(rows, start=1):
                row["id"] = row_id
            self.tables[table] = rows

    def event(self, person: dict[str, Any], kind: str, when: datetime) -> dict[str, Any]:
        rng = self.rng
        prop = search = None
        message = description = page_title = page_url = None
        page_duration = None
        if kind in ("Property Inquiry", "Viewed Property", "Saved Property", "Seller Inquiry"):
            prop = self.property(seller=kind == "Seller Inquiry")
        if kind == "Visited Open House":
            prop = self.property()
        if kind in ("Property Inquiry", "Seller Inquiry"):
            addr = f"{prop['street']}, {prop['city']}, TX {prop['code']}" if prop else ""
            message = rng.choice(INQUIRY_MESSAGES).format(addr=addr)
        elif kind in ("General Inquiry", "Registration"):
            message = (
                rng.choice(GENERAL_MESSAGES) if kind == "General Inquiry" or rng.random() < 0.3 else None
            )
        elif kind in ("Property Search", "Saved Property Search"):
            city, codes = rng.choice(CITIES)
            low = rng.randrange(200_000, 700_000, 25_000)
            search = {
                "type": rng.choice(PROPERTY_TYPES[:3]),
                "neighborhood": rng.choice(NEIGHBORHOODS),
                "city": city,
                "state": "TX",
                "code": codes[0],
                "minPrice": low,
                "maxPrice": low + rng.randrange(100_000, 400_000, 25_000),
                "minBedrooms": rng.randint(1, 4),
                "maxBedrooms": None,
                "minBathrooms": rng.choice([1, 2]),
                "maxBathrooms": None,
            }
        elif kind == "Viewed Page":
            page_title = rng.choice(
                ["Austin Market Report", "Mortgage Calculator", "Meet Our Team", "Sell Your Home"]
            )
            page_url = f"https://www.{DOMAIN}/{page_title.lower().replace(' ', '-')}"
            page_duration = rng.randint(5, 400)
        elif kind == "Incoming Call":
            description = "Called from a yard sign"
        elif kind == "Visited Website":
            description = f"Visited {rng.randint(2, 15)} pages"
        if kind == "Visited Open House":
            description = "Signed in at the open house"
        return {
            "created": self.ts(when),
            "updated": self.ts(when),
            "personId": person["id"],
            "message": message,
            "description": description,
            "noteId": None,
            "source": person["source"],
            "system": "Sandbox Website"
            if person["source"] in ("Website", "Google Ads", "Facebook")
            else None,
            "type": kind,
            "property": prop,
            "propertySearch": search,
            "pageTitle": page_title,
            "pageUrl": page_url,
            "pageReferrer": None,
            "pageDuration": page_duration,
        }

    def task(self, person: dict[str, Any], agent: dict[str, Any], today: date) -> dict[str, Any]:
        rng = self.rng
        kind, name = rng.choice(TASKS)
        offset = 0 if rng.random() < 0.18 else rng.randint(-20, 20)
        due_day = today + timedelta(days=offset)
        timed = rng.random() < 0.7
        due_time = (
            datetime.combine(due_day, time(rng.randint(8, 17), rng.choice([0, 15, 30, 45])), self.tz)
            if timed
            else None
        )
        created = min(
            self.now,
            datetime.combine(due_day, time(8), self.tz).astimezone(UTC)
            - timedelta(days=rng.randint(1, 14)),
        )
        completed = offset < 0 and rng.random() < 0.6
        completed_at = self.between(created, self.now) if completed else None
        return {
            "created": self.ts(created),
            "updated": self.ts(completed_at or created),
            "completed": self.ts(completed_at) if completed_at else None,
            "createdBy": agent["name"],
            "updatedBy": agent["name"],
            "createdById": agent["id"],
            "personId": person["id"],
            "AssignedTo": agent["name"],
            "assignedUserId": agent["id"],
            "name": f"{name} - {person['firstName']}",
            "type": kind,
            "isCompleted": completed,
            "dueDate": due_day.isoformat(),
            "dueDateTime": fmt_ts(due_time) if due_time else None,
            "remindSecondsBefore": 900 if timed and rng.random() < 0.4 else None,
            "person": {"id": person["id"], "name": person["name"]},
        }

    def deals(self) -> None:
        rng = self.rng
        users = {u["id"]: u for u in self.tables["users"]}
        pipelines = {p["name"]: p for p in self.tables["pipelines"]}
        deals = []
        for person in self.tables["people"]:
            stage = person["stage"]
            chance = {"Active Client": 0.45, "Under Contract": 1.0, "Closed": 1.0, "Past Client": 0.5}.get(
                stage, 0
            )
            if rng.random() >= chance:
                continue
            seller = "Seller" in person["tags"]
            pipeline = pipelines["Sellers" if seller else "Buyers"]
            stages = pipeline["stages"]
            if stage == "Active Client":
                deal_stage = rng.choice(stages[:3])
            elif stage == "Under Contract":
                deal_stage = stages[3]
            else:
                deal_stage = stages[4]
            created = datetime.fromisoformat(person["created"].replace("Z", "+00:00"))
            opened = self.between(created, min(self.now, created + timedelta(days=40)))
            entered = self.between(opened, self.now)
            price = person["price"] or rng.randrange(250_000, 900_000, 5_000)
            commission = round(price * 0.03, 2)
            agent_id = person["assignedUserId"] or OWNER_USER_ID
            street = person["addresses"][0]["street"] if person["addresses"] else self.address()["street"]
            closing = (
                person.get("customClosingDate")
                or (self.now + timedelta(days=rng.randint(10, 90))).date().isoformat()
            )
            deals.append(
                {
                    "createdAt": self.ts(opened),
                    "updated": self.ts(entered),
                    "name": f"{street} ({person['lastName']})",
                    "type": "Sale",
                    "status": "Active",
                    "price": price,
                    "pipelineId": pipeline["id"],
                    "pipelineName": pipeline["name"],
                    "stageId": deal_stage["id"],
                    "stageName": deal_stage["name"],
                    "enteredStageAt": self.ts(entered),
                    "orderWeight": 1000,
                    "description": "",
                    "projectedCloseDate": closing,
                    "people": [{"id": person["id"], "name": person["name"]}],
                    "users": [{"id": agent_id, "name": users[agent_id]["name"]}],
                    "commissionValue": commission,
                    "agentCommission": round(commission * 0.7, 2),
                    "teamCommission": round(commission * 0.3, 2),
                    "earnestMoneyDueDate": None,
                    "mutualAcceptanceDate": None,
                    "dueDiligenceDate": None,
                    "finalWalkThroughDate": None,
                    "possessionDate": None,
                }
            )
        deals.sort(key=lambda d: d["createdAt"])
        for row_id, deal in enumerate(deals, start=1):
            deal["id"] = row_id
        self.tables["deals"] = deals

    def action_plan_people(self) -> None:
        rng = self.rng
        plans = self.tables["actionplans"]
        rows = []
        candidates = [p for p in self.tables["people"] if p["stage"] in ("Lead", "Prospect", "Past Client")]
        for person in rng.sample(candidates, k=min(45, len(candidates))):
            plan = (
                plans[2]
                if person["stage"] == "Past Client"
                else plans[1]
                if "Seller" in person["tags"]
                else plans[0]
            )
            created = datetime.fromisoformat(person["created"].replace("Z", "+00:00"))
            started = self.between(created, min(self.now, created + timedelta(days=2)))
            status = rng.choice(["Running", "Running", "Running", "Paused", "Completed"])
            rows.append(
                {
                    "created": self.ts(started),
                    "updated": self.ts(started),
                    "personId": person["id"],
                    "actionPlanId": plan["id"],
                    "actionPlanName": plan["name"],
                    "status": status,
                }
            )
        rows.sort(key=lambda r: r["created"])
        for row_id, row in enumerate(rows, start=1):
            row["id"] = row_id
        self.tables["actionplanspeople"] = rows

    def rollups(self) -> None:
        latest: dict[int, str] = {}
        communication: dict[int, str] = {}
        for table in ("events", "notes", "calls", "textmessages"):
            for row in self.tables[table]:
                pid = row["personId"]
                latest[pid] = max(latest.get(pid, ""), row["created"])
                if table in ("calls", "textmessages"):
                    communication[pid] = max(communication.get(pid, ""), row["created"])
        next_task: dict[int, str] = {}
        for row in self.tables["tasks"]:
            if not row["isCompleted"]:
                due = row["dueDateTime"] or f"{row['dueDate']}T00:00:00Z"
                pid = row["personId"]
                next_task[pid] = min(next_task.get(pid, "9999"), due)
        for person in self.tables["people"]:
            person["lastActivity"] = latest.get(person["id"], person["created"])
            person["_lastCommunication"] = communication.get(person["id"])
            person["_nextTask"] = next_task.get(person["id"])


def build_seed(now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Every seeded row by table, each with its id; the same `now` always gives the same data."""
    return _Builder(now).build()
