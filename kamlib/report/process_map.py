"""The KAM process map: the seven steps of key account management and the account manager's
skills, each mapped to what the workbook delivers and to what stays the company's own work.

One source for the run's ``html/process_map.html`` (linked from the index page) and for
``docs/process_map.md`` (a test keeps the two in step). A workbook computes, ranks and drafts;
organisation, commitment and conversations with the customer are the company's, and the page
says so step by step.
"""

from __future__ import annotations

from dataclasses import dataclass

from kamlib.report import pages


@dataclass(frozen=True)
class Delivery:
    """One output of the workbook: which notebook makes it and what it is."""

    notebook: str
    what: str


@dataclass(frozen=True)
class ProcessStep:
    number: int
    name: str
    question: str
    delivers: tuple[Delivery, ...]
    company: str


PROCESS: tuple[ProcessStep, ...] = (
    ProcessStep(1, "Portfolio vs profits", "Which accounts are key, and how does the portfolio earn?",
                (Delivery("10_selection", "criteria and weights (AHP: CR per manager), the scored "
                          "and ranked list, how robust each place on it is, where managers agree"),
                 Delivery("20_clv", "lifetime value with an interval and the investment ceiling "
                          "per key account, checked on a holdout period"),
                 Delivery("30_segmentation", "the value x growth portfolio (four segments, each "
                          "with its strategy), migration since last year, the directional "
                          "policy matrix")),
                "Senior management sets the criteria and signs off the list, with a written "
                "reason for every override; everyone is told which accounts are key and why."),
    ProcessStep(2, "Understand the customer entirely", "What does this customer buy, need and plan?",
                (Delivery("00_intake", "the customer's buying history, checked: revenue, margin, "
                          "categories, sites, rhythm, what was set aside and why"),
                 Delivery("40_account_plans", "the profile section of each plan: revenue trend, "
                          "share of categories, whitespace (offerings not yet bought)")),
                "The customer's strategy, market position, finances and organisation come from "
                "conversations, annual reports and the market: the plan workbook has the fields, "
                "the account team fills them."),
    ProcessStep(3, "Relationship X-ray", "Who do we know, in which roles, how well?",
                (Delivery("40_account_plans", "the decision-making unit per plan: roles covered "
                          "and missing, attitude and freshness of contact, bow-tie or diamond, "
                          "red flags (no coach, a hostile influence, one thread)"),),
                "Meeting the people, and keeping the contact records true: the X-ray is only as "
                "good as the CRM behind it."),
    ProcessStep(4, "Key account plan blueprint", "What do we want with this account, and how?",
                (Delivery("40_account_plans", "objectives grounded in the base, the whitespace "
                          "and the segment's strategy; stage goals; a page per key account"),
                 Delivery("30_segmentation", "the strategy each segment and DPM box calls for")),
                "Agreeing the objectives inside the account team and testing them with the "
                "customer; a draft is not a commitment until people own it."),
    ProcessStep(5, "Action", "What happens in the next 90 days, checked every 30?",
                (Delivery("40_account_plans", "actions with owner and due date for the next 90 "
                          "days, checkpoints every 30, a calendar (.ics) per plan, health score"),),
                "Doing the actions, and holding the 30-day checkpoints."),
    ProcessStep(6, "Resource planning and audit", "Who serves which account, with what effort; "
                "did the plan happen?",
                (Delivery("50_portfolio_review", "serving model and hours per account, each "
                          "manager's workload against capacity; with --baseline, the last plan's "
                          "objectives and actions reviewed against what happened"),),
                "Assigning the people and the budget, and running the review every quarter: a "
                "plan written once and shelved until appraisal is the failure the review is for."),
    ProcessStep(7, "Communicate", "Do our people and the customer know what is planned?",
                (Delivery("50_portfolio_review", "the executive summary page and the plan "
                          "workbook the account team edits"),
                 Delivery("40_account_plans", "plan pages to walk through with the account team")),
                "Telling the organisation which accounts are key, why, and how their requests "
                "are routed; showing the customer a joint view of what was done and is planned "
                "(never our internal valuation of them). Organisation and commitment are "
                "management's."),
)


@dataclass(frozen=True)
class Skill:
    name: str
    supported_by: tuple[str, ...]
    how: str
    person: str


SKILLS: tuple[Skill, ...] = (
    Skill("Business and financial acumen", ("20_clv", "40_account_plans"),
          "reading lifetime value, margin, cost to serve and the investment ceiling of an account",
          "turning the numbers into a case the customer's own finance people accept"),
    Skill("Strategic and portfolio thinking", ("10_selection", "30_segmentation"),
          "seeing the account in the portfolio: why it is key, which segment, which strategy",
          "judging where the customer's market is going"),
    Skill("Relationship building across the buying centre", ("40_account_plans",),
          "the X-ray shows who is known, who is missing and which threads are thin",
          "earning trust, finding a coach, widening a bow-tie into a diamond"),
    Skill("Planning and follow-through", ("40_account_plans", "50_portfolio_review"),
          "objectives, 90-day actions, 30-day checkpoints, the review against the last plan",
          "keeping the plan alive between reviews"),
    Skill("Orchestrating the account team", ("50_portfolio_review",),
          "the resource plan and workloads show what the team can carry",
          "leading specialists who do not report to the account manager"),
    Skill("Communication and negotiation", ("50_portfolio_review",),
          "the executive summary and plan pages give a shared, written view",
          "presenting, listening and negotiating with the customer and inside the company"),
)

def process_map_page(client: str, run_name: str, titles: dict[str, str],
                     available: set[str] | frozenset = frozenset()) -> str:
    """The process map as a page. ``titles`` are the steps' titles by notebook; ``available``
    names the step pages the run rendered (those are linked, relative to ``html/``)."""
    def link(notebook: str) -> dict[str, str]:
        return {"title": f"{notebook[:2]} {titles.get(notebook, notebook)}",
                "href": f"{notebook}.html" if notebook in available else ""}

    steps = [{"number": s.number, "name": s.name, "question": s.question, "company": s.company,
              "delivers": [dict(link(d.notebook), what=d.what) for d in s.delivers]}
             for s in PROCESS]
    skills = [{"name": k.name, "how": k.how, "person": k.person,
               "steps": [link(n) for n in k.supported_by]} for k in SKILLS]
    return pages.render("process_map.html.j2", client=client, run_name=run_name, steps=steps,
                        skills=skills)
