"""The words of key account management as this workbook uses them: the only place they are spelled.

Segment, tier, serving model, DMU role, relationship stage, plan milestone, strategy and health
band names, with the texts that explain them, and the column lists of the plan tables people
edit. Every step, figure, page and workbook takes its words from here, so the executive summary
cannot say one thing about Laggards while the segmentation step says another.

Foundation layer: imports nothing from kamlib, and nothing heavy (no pandas).
"""

from __future__ import annotations

# ----------------------------------------------------------------------------- segments (step 30)
STAR = "Star"
DEVELOPING = "Developing"
CORE = "Core"
LAGGARD = "Laggard"

SEGMENTS: tuple[str, ...] = (STAR, DEVELOPING, CORE, LAGGARD)
"""The value x growth segments, best first: Star (high value, high growth), Developing (low
value, high growth), Core (high value, low growth), Laggard (low value, low growth)."""

SEGMENT_LABELS: dict[str, str] = {STAR: "Stars", DEVELOPING: "Developing", CORE: "Core",
                                  LAGGARD: "Laggards"}
"""Plural display labels ("the Stars", "among Laggards")."""

SEGMENT_POSITIONS: dict[str, str] = {
    STAR: "high value, high growth", DEVELOPING: "low value, high growth",
    CORE: "high value, low growth", LAGGARD: "low value, low growth",
}
"""Where each segment sits on the value x growth map."""

SEGMENT_CORNERS: dict[str, tuple[int, int]] = {STAR: (1, 1), DEVELOPING: (-1, 1), CORE: (1, -1),
                                               LAGGARD: (-1, -1)}
"""Each segment's corner of the map as (value, growth) signs (clusters are named by it)."""

SEGMENT_RANK: dict[str, int] = {LAGGARD: 0, DEVELOPING: 1, CORE: 1, STAR: 2}
"""Higher is better; Developing <-> Core is a sideways move (value traded for growth)."""

INVEST_SEGMENTS: tuple[str, ...] = (STAR, DEVELOPING)
"""Segments with an *invest* posture."""

NOT_SEGMENTED = "Not segmented"
"""The segment summary's row for accounts without purchases in the windows compared."""

SEGMENT_STRATEGIES: dict[str, str] = {
    STAR: "Invest for growth",
    DEVELOPING: "Invest selectively",
    CORE: "Maintain and defend",
    LAGGARD: "Manage for cash",
}
"""Headline strategy per segment: the text of the ``strategy`` column of ``segments``, shown by
the segmentation step and the executive summary alike."""

KEY_LAGGARD_STRATEGY = "Manage for cash; review key status"
"""Strategy of a key account that is a Laggard."""

NO_PURCHASES_STRATEGY = "No purchases: reactivate or drop"
"""Strategy of an account without purchases in the windows compared (``segments`` table)."""

NOT_SEGMENTED_STRATEGY = "Reactivate or drop"
"""Strategy of the Not segmented row of the segment summary."""

SEGMENT_ACTIONS: dict[str, str] = {
    STAR: "Put the best people and a joint plan on them; widen contacts across functions; "
    "protect the position before competitors notice the growth.",
    DEVELOPING: "Back the growers with a realistic share-of-wallet goal; invest where the "
    "potential is proven, and review every half-year whether they earn a key-account team.",
    CORE: "Keep service levels and price discipline; look for the next product or site to "
    "restart growth; watch for slow erosion.",
    LAGGARD: "Serve at lower cost (inside sales, e-commerce, distributors); stop discounts "
    "that buy nothing; find out why the account shrinks before giving up on it.",
}
"""What the strategy means in practice, one sentence or two per segment."""

NO_PURCHASES_ACTIONS = ("No purchases in the windows compared: decide whether to win the "
                        "account back or drop it.")

SEGMENT_SERVING_MODELS: dict[str, str] = {
    STAR: "dedicated account manager",
    DEVELOPING: "field sales with a development plan",
    CORE: "account manager, efficient service",
    LAGGARD: "inside sales / e-commerce",
}
"""Serving model for non-key accounts by segment (key accounts keep their key-account team)."""

KEY_SERVING_MODEL = "key-account team"
NO_SERVING_MODEL = "no active serving"

# Directional policy matrix (step 30, key accounts): its boxes are not the segments above, though
# one shares the word Star.
DPM_STRATEGIC = "Strategic"
DPM_STAR = "Star"
DPM_STATUS = "Status"
DPM_STREAMLINE = "Streamline"
DPM_BOXES: tuple[str, ...] = (DPM_STRATEGIC, DPM_STAR, DPM_STATUS, DPM_STREAMLINE)
"""Boxes of the directional policy matrix: attractive and strong first."""

DPM_STRATEGIES: dict[str, str] = {
    DPM_STRATEGIC: "Invest for growth",
    DPM_STAR: "Invest selectively to build the relationship",
    DPM_STATUS: "Maintain cost-effectively",
    DPM_STREAMLINE: "Manage for cash; reduce cost to serve",
}
"""Strategy per DPM box (the ``dpm_strategy`` column)."""

# ----------------------------------------------------------------------------- tiers (step 10)
KEY = "key"
KEY_DEVELOPMENT = "key-development"
MANAGED = "managed"
LONG_TAIL = "long-tail"

TIERS: tuple[str, ...] = (KEY, KEY_DEVELOPMENT, MANAGED, LONG_TAIL)
"""Selection tiers, most attention first."""

TIER_SERVING_MODELS: dict[str, str] = {
    KEY: "dedicated key account manager, joint account plan, quarterly business review, "
         "executive sponsor",
    KEY_DEVELOPMENT: "named account manager with a development plan toward key status, "
                     "half-yearly review",
    MANAGED: "field or inside sales rep (about 40 accounts each), standard terms, annual review",
    LONG_TAIL: "digital / inside sales: self-service ordering, standard terms, no dedicated "
               "resource",
}
"""How an account of each tier is served."""

# Serving models with costs (step 30's serving-model economics): what serving an account costs
# a year and how many accounts one person (or the platform) can carry.
SERVE_KAM = "key account manager"
SERVE_ACCOUNT_MANAGER = "account manager"
SERVE_INSIDE_SALES = "inside sales"
SERVE_DIGITAL = "digital / distributor"
SERVING_MODELS: tuple[str, ...] = (SERVE_KAM, SERVE_ACCOUNT_MANAGER, SERVE_INSIDE_SALES,
                                   SERVE_DIGITAL)
"""Serving models, most attention (and cost) first."""

TIER_DEFAULT_SERVING: dict[str, str] = {
    KEY: SERVE_KAM,
    KEY_DEVELOPMENT: SERVE_ACCOUNT_MANAGER,
    MANAGED: SERVE_INSIDE_SALES,
    LONG_TAIL: SERVE_DIGITAL,
}
"""The serving model an account of each tier has today, unless the data say otherwise."""

PLANNED_TIERS: tuple[str, ...] = (KEY, KEY_DEVELOPMENT)
"""Tiers that get a named account manager (the resource plan's default)."""

# ----------------------------------------------------------------------------- relationships
INITIATOR, USER, INFLUENCER, DECIDER, BUYER, GATEKEEPER = (
    "initiator", "user", "influencer", "decider", "buyer", "gatekeeper")
DMU_ROLES: tuple[str, ...] = (INITIATOR, USER, INFLUENCER, DECIDER, BUYER, GATEKEEPER)
"""Decision-making-unit roles (Webster & Wind). A contact may hold several."""

DMU_ROLE_ABBREVIATIONS: dict[str, str] = {INITIATOR: "In", USER: "U", INFLUENCER: "Inf",
                                          DECIDER: "D", BUYER: "B", GATEKEEPER: "G"}
"""Short role marks for relationship maps."""

EXPLORATORY, BASIC, COOPERATIVE, INTERDEPENDENT, INTEGRATED = (
    "exploratory", "basic", "cooperative", "interdependent", "integrated")
RELATIONSHIP_STAGES: tuple[str, ...] = (EXPLORATORY, BASIC, COOPERATIVE, INTERDEPENDENT,
                                        INTEGRATED)
"""Relationship stages (McDonald & Woodburn), from no business yet to joint teams."""

DIAMOND = "diamond"
BOW_TIE = "bow-tie"
NO_CONTACTS = "no contacts"
RELATIONSHIP_SHAPES: tuple[str, ...] = (DIAMOND, BOW_TIE, NO_CONTACTS)
"""Shapes of the relationship: many threads (diamond), one or two (bow-tie), none known."""

ROLE_COVERED, ROLE_THIN, ROLE_UNKNOWN = "covered", "thin", "unknown"
"""How well a DMU role is known: held by a strong enough contact, only by weak ones, by nobody."""

FIVE_P: tuple[str, ...] = ("Position", "Power", "Priorities", "Perception", "Proximity")
"""Default display names of the five dimensions of the 5P contact view."""

RED_FLAGS: dict[str, str] = {
    "no_contacts": "No contacts recorded",
    "no_decider": "No decider covered",
    "no_champion": "No champion",
    "decider_hostile": "Decider hostile",
    "hostile_influence": "Powerful contact hostile",
    "single_point_of_contact": "Single point of contact",
    "stale_contacts": "Contacts not touched recently",
    "missing_contact_data": "Contact data incomplete",
    "revenue_declining": "Revenue declining",
}
"""Relationship red-flag codes (the ``flag`` column of ``plan_red_flags``) and their headings."""

# ----------------------------------------------------------------------------- plans (step 40)
MILESTONES: tuple[tuple[str, int], ...] = (
    ("day 30", 30), ("day 60", 60), ("day 90 / Q1", 91), ("Q2", 182), ("Q3", 273),
    ("Q4 / year", 365),
)
"""Stage goals of a plan: label and days from the plan start."""

OBJECTIVE_COLUMNS: tuple[str, ...] = (
    "account_id", "objective_id", "objective", "description", "milestone", "days", "due_date",
    "baseline", "target", "unit", "owner", "status",
)
"""Columns of ``plan_objectives`` (one row per objective and stage goal)."""

ACTION_LEADING_COLUMNS: tuple[str, ...] = (
    "account_id", "action_id", "objective_id", "gap", "action", "owner", "due_date",
    "checkpoint", "checkpoint_date", "priority", "status",
)
"""What every action of a plan has: what, who, when, status (what the plan review reads; an
action typed into the workbook by hand has these)."""

ACTION_COLUMNS: tuple[str, ...] = (*ACTION_LEADING_COLUMNS, "contact_id", "category", "value")
"""Columns of ``plan_actions``: the leading columns, then what the action concerns."""

ACTION_STATUSES: tuple[str, ...] = ("open", "done", "dropped")
"""Statuses a consultant may give an action in the workbook."""

# ----------------------------------------------------------------------------- account content
EXECUTIVE_SPONSOR, KEY_ACCOUNT_MANAGER = "executive sponsor", "key account manager"
TEAM_ROLES: tuple[str, ...] = (EXECUTIVE_SPONSOR, KEY_ACCOUNT_MANAGER, "sales", "service",
                               "technical", "finance", "logistics", "marketing", "quality", "other")
"""Roles of our people in a key account's team (the ``role`` column of ``account_team``)."""

STRATEGY_TOPICS: tuple[str, ...] = ("aim", "culture", "value_proposition", "strength", "weakness",
                                    "opportunity", "threat")
"""What a row of ``account_strategy`` records: the customer's strategic aims, their culture
and way of buying, our value proposition, and the four SWOT entries of our position."""

SWOT: tuple[str, ...] = ("strength", "weakness", "opportunity", "threat")
"""The SWOT topics of ``account_strategy``, in the order a SWOT grid shows them."""

WON_STAGES: tuple[str, ...] = ("won", "closed won", "closed/won", "closed-won")
LOST_STAGES: tuple[str, ...] = ("lost", "closed lost", "closed/lost", "closed-lost", "dropped",
                                "cancelled", "canceled")
"""Opportunity stages (``opportunities.stage``, any case) that close an opportunity: won ones
are no longer pipeline, lost ones never were."""

TOP_TO_TOP, BUSINESS_REVIEW, OPERATIONAL_REVIEW = (
    "top-to-top meeting", "quarterly business review", "operational review")
GOVERNANCE_MEETINGS: dict[str, int] = {TOP_TO_TOP: 182, BUSINESS_REVIEW: 91, OPERATIONAL_REVIEW: 30}
"""The governance cadence of a key account: meeting and days between two of them."""

(BRIDGE_BASELINE, BRIDGE_PIPELINE, BRIDGE_WHITESPACE, BRIDGE_SITES, BRIDGE_HEADROOM,
 BRIDGE_SEGMENT_GROWTH) = ("baseline", "weighted pipeline", "whitespace", "unserved sites",
                          "wallet headroom", "segment growth")
BRIDGE_STEPS: tuple[str, ...] = (BRIDGE_BASELINE, BRIDGE_PIPELINE, BRIDGE_WHITESPACE, BRIDGE_SITES,
                                 BRIDGE_HEADROOM, BRIDGE_SEGMENT_GROWTH)
"""The bars of a revenue-target bridge, in order: this year's revenue, then what each piece of
evidence adds (segment growth only where no evidence is known), ending at the target."""

# ----------------------------------------------------------------------------- health
RED, AMBER, GREEN, UNKNOWN_BAND = "red", "amber", "green", "unknown"
HEALTH_BANDS: tuple[str, ...] = (RED, AMBER, GREEN)
"""Health bands, worst first (scores below the first limit are red, below the second amber)."""

__all__ = [name for name in dir() if name.isupper()]
