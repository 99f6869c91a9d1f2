"""The demo's script: the 2021 PMA, the CFO Act agencies, people's names, and the cards each meeting issues."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import ActionOwnerSide, Horizon

DEFAULT_PASSWORD = "pmc-demo-password"
ADMIN_USERNAME = "omb.admin"
VIEWER_USERNAME = "omb.viewer"
LOCATION = "Eisenhower Executive Office Building, Room 430"

# (number, title, short title, description, strategies)
PRIORITIES = [
    (
        1,
        "Strengthening and empowering the federal workforce",
        "Workforce",
        "Attract, hire, develop and keep the talent the government needs.",
        [
            "Attract and hire the most qualified employees who reflect the diversity of our country",
            "Make every federal job a good job",
            "Reimagine and build a roadmap to the future of federal work",
            "Build the personnel system and support required to sustain the federal government as a model employer",
        ],
    ),
    (
        2,
        "Delivering excellent, equitable and secure federal services and customer experience",
        "Services and CX",
        "Improve the customer experience (CX) of the public's most important services.",
        [
            "Improve the service design, digital products and customer experience of high-impact service providers",
            "Design and deliver services around key life experiences",
            "Identify and build shared federal products, services and standards",
        ],
    ),
    (
        3,
        "Managing the business of government",
        "Business of government",
        "Grants, acquisition and financial management that serve the public.",
        [
            "Use the federal marketplace to support sustainable, domestic and equitable supply chains",
            "Build an equitable and effective federal grants process",
            "Strengthen federal financial management",
        ],
    ),
]

# (name, abbreviation, deputy's title, HISP)
CFO_ACT_AGENCIES = [
    ("Department of Agriculture", "USDA", "Deputy Secretary of Agriculture", True),
    ("Department of Commerce", "DOC", "Deputy Secretary of Commerce", False),
    ("Department of Defense", "DOD", "Deputy Secretary of Defense", False),
    ("Department of Education", "ED", "Deputy Secretary of Education", True),
    ("Department of Energy", "DOE", "Deputy Secretary of Energy", False),
    ("Department of Health and Human Services", "HHS", "Deputy Secretary of Health and Human Services", True),
    ("Department of Homeland Security", "DHS", "Deputy Secretary of Homeland Security", True),
    ("Department of Housing and Urban Development", "HUD", "Deputy Secretary of Housing and Urban Development", False),
    ("Department of the Interior", "DOI", "Deputy Secretary of the Interior", True),
    ("Department of Justice", "DOJ", "Deputy Attorney General", False),
    ("Department of Labor", "DOL", "Deputy Secretary of Labor", True),
    ("Department of State", "STATE", "Deputy Secretary of State for Management and Resources", True),
    ("Department of Transportation", "DOT", "Deputy Secretary of Transportation", False),
    ("Department of the Treasury", "TREASURY", "Deputy Secretary of the Treasury", True),
    ("Department of Veterans Affairs", "VA", "Deputy Secretary of Veterans Affairs", True),
    ("Environmental Protection Agency", "EPA", "Deputy Administrator", False),
    ("National Aeronautics and Space Administration", "NASA", "Deputy Administrator", False),
    ("National Science Foundation", "NSF", "Chief Operating Officer", False),
    ("Nuclear Regulatory Commission", "NRC", "Executive Director for Operations", False),
    ("Office of Personnel Management", "OPM", "Director", True),
    ("Small Business Administration", "SBA", "Deputy Administrator", True),
    ("Social Security Administration", "SSA", "Deputy Commissioner", True),
    ("General Services Administration", "GSA", "Administrator", False),
    ("U.S. Agency for International Development", "USAID", "Deputy Administrator", False),
]

# (name, abbreviation, parent's abbreviation, HISP)
SUB_AGENCIES = [
    ("Internal Revenue Service", "IRS", "TREASURY", True),
    ("Community Development Financial Institutions Fund", "CDFI", "TREASURY", True),
    ("Indian Health Service", "IHS", "HHS", True),
    ("Defense Counterintelligence and Security Agency", "DCSA", "DOD", True),
    ("International Trade Administration", "ITA", "DOC", True),
]

FIRST_NAMES = [
    "Alicia", "Marcus", "Priya", "Daniel", "Grace", "Tomas", "Naomi", "Victor", "Helen", "Samuel", "Leah", "Omar",
    "Rachel", "Kevin", "Maria", "Jonah", "Celeste", "Andre", "Fiona", "Raymond", "Irene", "Malik", "Teresa", "Gavin",
    "Denise", "Hector", "Yvonne", "Brandon", "Ingrid", "Curtis", "Monique", "Felix", "Rosa", "Desmond", "Paula",
    "Wesley", "Carmen", "Elliot", "Bianca", "Trevor", "Lorraine", "Martin", "Sonia", "Preston", "Audrey", "Reggie",
    "Nadia", "Quentin", "Joan", "Ramon",
]  # fmt: skip
LAST_NAMES = [
    "Alvarez", "Bennett", "Chandra", "Dawson", "Ellison", "Fuentes", "Garrison", "Hollis", "Iverson", "Jimenez",
    "Kowalski", "Lindqvist", "Marsh", "Nakamura", "Okafor", "Pritchard", "Quinlan", "Rosales", "Sutherland",
    "Thibodeaux", "Underwood", "Valdez", "Whitfield", "Yamamoto", "Zimmerman", "Abernathy", "Brennan", "Castillo",
    "Delgado", "Everett", "Fairbanks", "Greer", "Haddad", "Ibarra", "Jorgensen", "Kincaid", "Lowell", "McAllister",
    "Novak", "Osei", "Pemberton", "Ramsey", "Salazar", "Tran", "Vance", "Whitaker", "Xiong", "Youngblood", "Zeller",
    "Ashford",
]  # fmt: skip
DELEGATE_TITLES = ["Chief of Staff", "Performance Improvement Officer", "Chief Customer Experience Officer"]

ALL_CFO = tuple(abbr for _, abbr, _, _ in CFO_ACT_AGENCIES)
TEN_CX = ("HHS", "DHS", "VA", "SSA", "TREASURY", "USDA", "ED", "DOI", "SBA", "STATE")


@dataclass(frozen=True)
class ActionPlan:
    description: str
    side: str = ActionOwnerSide.AGENCY
    owner: str = "delegate"  # deputy, delegate, omb, or "" for owner_name only
    owner_name: str = ""
    due_in_days: int = 14


@dataclass(frozen=True)
class CardPlan:
    meeting: int  # 0, 1, 2: past meetings, oldest first; 3: the next meeting
    title: str
    ask: str
    priority: int
    strategy: int | None
    agencies: tuple[str, ...]
    horizon: str = Horizon.MONTH
    metric: tuple[str, str, str, str] | None = None  # name, unit, baseline, target
    actions: tuple[ActionPlan, ...] = ()
    risk_note: str = "Behind plan: we need OMB's help to clear a blocker."


CARD_PLANS = [
    CardPlan(
        0,
        "Join a government-wide pooled hiring action",
        "Join at least one of OPM's pooled hiring actions this quarter (data scientists, HR specialists or IT "
        "specialists) and hire from the shared certificate instead of posting your own announcement.",
        1,
        1,
        ALL_CFO,
        metric=("People hired from pooled hiring certificates", "people", "0", "12"),
        actions=(
            ActionPlan("Name a hiring manager to join the pooled action", owner="deputy", due_in_days=10),
            ActionPlan(
                "Share the pooled certificate with the agency",
                side=ActionOwnerSide.OMB,
                owner="",
                owner_name="OPM Pooled Hiring Team",
                due_in_days=14,
            ),
            ActionPlan("Report the hires made from the certificate", due_in_days=28),
        ),
        risk_note="Our HR office has not yet agreed to use the shared certificate; hiring managers want their own.",
    ),
    CardPlan(
        0,
        "Ramp up customer experience (CX) capacity",
        "Name a senior accountable CX executive and staff a CX team of at least five people for your "
        "high-impact services, with a budget line for FY2025.",
        2,
        1,
        TEN_CX,
        horizon=Horizon.YEAR,
        actions=(
            ActionPlan("Name the senior accountable CX executive", owner="deputy", due_in_days=21),
            ActionPlan(
                "Send the CX team position descriptions to OMB for review",
                side=ActionOwnerSide.OMB,
                owner="omb",
                due_in_days=30,
            ),
        ),
        risk_note="The CX team positions are caught in the hiring freeze exception process.",
    ),
    CardPlan(
        1,
        "Set an in-person presence of at least 50% for headquarters roles",
        "Set and publish a policy that headquarters staff work in person at least half of their time, and "
        "report the share of staff who meet it each month.",
        1,
        3,
        ALL_CFO,
        horizon=Horizon.YEAR,
        metric=("Headquarters staff in person at least half the time", "%", "35", "50"),
        actions=(
            ActionPlan("Publish the headquarters presence policy", owner="deputy", due_in_days=14),
            ActionPlan("Report badge-in data for the month", due_in_days=28),
        ),
        risk_note="Space consolidation leaves too few desks at headquarters for 50% presence until spring.",
    ),
    CardPlan(
        2,
        "Cut IRS phone wait times from 28 minutes to 3",
        "Bring the average wait on the IRS main taxpayer phone lines down from 28 minutes to 3 minutes by the "
        "filing season, and report the weekly average.",
        2,
        1,
        ("TREASURY",),
        horizon=Horizon.YEAR,
        metric=("Average phone wait time", "minutes", "28", "3"),
        actions=(
            ActionPlan("Staff the new callback service for the filing season", due_in_days=20),
            ActionPlan(
                "Approve the customer service representative hiring exception",
                side=ActionOwnerSide.OMB,
                owner="omb",
                due_in_days=7,
            ),
        ),
    ),
    CardPlan(
        2,
        "Raise customer satisfaction by 5%",
        "Raise the customer satisfaction score of your high-impact services by 5% over two years, measured by "
        "the standard post-transaction survey.",
        2,
        1,
        ("VA", "SSA", "SBA", "OPM", "USDA", "DHS"),
        horizon=Horizon.YEAR,
        metric=("Customer satisfaction score", "points", "72", "75.6"),
        actions=(ActionPlan("Publish the quarterly survey results on performance.gov", due_in_days=30),),
    ),
    CardPlan(
        2,
        "Stand up the newly designated high-impact service provider",
        "Your bureau is one of the four new high-impact service providers (IHS, CDFI Fund, DCSA, ITA): name "
        "an accountable executive and send OMB a first CX action plan.",
        2,
        1,
        ("HHS", "TREASURY", "DOD", "DOC"),
        actions=(
            ActionPlan("Name the bureau's accountable CX executive", owner="deputy", due_in_days=14),
            ActionPlan("Hold the HISP onboarding session", side=ActionOwnerSide.OMB, owner="omb", due_in_days=21),
        ),
    ),
    CardPlan(
        3,
        "Close out grants past their end date",
        "Close out every grant award more than 120 days past its period of performance and report the "
        "remaining balance to OMB.",
        3,
        2,
        ("HHS", "ED", "DOJ", "HUD", "USDA", "DOT"),
        metric=("Grants past end date not closed out", "awards", "240", "0"),
        actions=(ActionPlan("Send the list of late close-outs to OMB", due_in_days=20),),
    ),
    CardPlan(
        3,
        "Resolve open financial-audit findings",
        "Resolve the material weaknesses from last year's financial statement audit or send OMB a dated "
        "corrective action plan for each.",
        3,
        3,
        ("DHS", "DOD", "HUD"),
        horizon=Horizon.YEAR,
        actions=(ActionPlan("Send the corrective action plans to OMB", owner="deputy", due_in_days=30),),
    ),
]
