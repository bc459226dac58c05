"""Assessment: assignment, conflicts of interest, scoring, moderation and ranking.

An assessment moves through ``portal.workflows.ASSESSMENT`` (not started, in progress,
submitted) and a declaration through ``DECLARATION``: one guarded write each, then its
effects. A submitted assessment is changed only by reopening it, which stops it counting
(ranking, exports, readiness for a decision) until it is submitted again; a submitted one
has every criterion scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from portal.db import session, utcnow
from portal.models import (
    AssessmentStatus,
    Assignment,
    Bid,
    BidStatus,
    ConflictStatus,
    Criterion,
    Fund,
    ModeratedScore,
    Moderation,
    Organisation,
    Recommendation,
    Role,
    Round,
    Score,
    User,
    UserRole,
)
from portal.services import DomainError, audit, email, policy
from portal.services.decisions import Readiness, readiness_of
from portal.services.policy import Action
from portal.services.workflow import Conflict, atomic, move, tell
from portal.workflows import ASSESSMENT, BID, DECLARATION

ASSESSABLE = {BidStatus.SUBMITTED, BidStatus.IN_ASSESSMENT, BidStatus.MORE_INFORMATION_REQUESTED}
DISAGREEMENT = 2  # points between assessors on a criterion that call for moderation


def assessors() -> list[User]:
    return list(session.scalars(
        select(User).join(UserRole).where(UserRole.role == Role.ASSESSOR, User.active.is_(True))
        .order_by(User.name)))


def managers() -> list[User]:
    return list(session.scalars(
        select(User).join(UserRole).where(UserRole.role == Role.MANAGER, User.active.is_(True))))


def weighted_basis_points(scores: dict[int, int], criteria: list[Criterion]) -> int:
    """The weighted total as hundredths of a per cent: 10000 is every criterion at the top."""
    total = Decimal(0)
    for criterion in criteria:
        score = scores.get(criterion.id)
        if score is None:
            continue
        span = criterion.scale_max - criterion.scale_min
        total += Decimal(score - criterion.scale_min) / span * criterion.weight * 100
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- assignment ------------------------------------------------------------------------------


@atomic
def assign(bid: Bid, assessor: User, actor: User) -> Assignment:
    """Ask ``assessor`` to assess ``bid``; the first assignment starts the assessment (one
    guarded write of the bid's status). The assessor is emailed. A refusal changes nothing."""
    policy.require(actor, Action.MANAGE_GRANTS, field="assessor",
                   otherwise=_("Only a grants manager can assign assessors."))
    if bid.status not in ASSESSABLE:
        raise DomainError(_("Only submitted bids can be assessed."), field="assessor")
    policy.require(assessor, Action.ASSESS_BID, bid, field="assessor",
                   otherwise=_("Choose an assessor."))
    existing = session.scalar(select(Assignment).where(Assignment.bid_id == bid.id,
                                                      Assignment.assessor_id == assessor.id))
    if existing is not None:
        raise DomainError(_("%(name)s is already assigned to %(reference)s.", name=assessor.name,
                            reference=bid.reference), field="assessor")
    if bid.status == BidStatus.SUBMITTED:
        try:
            move(BID, "start_assessment", bid, actor)
        except Conflict:
            # Another manager's assignment started it a moment ago: this one still stands.
            if bid.status not in ASSESSABLE:
                raise
    assignment = Assignment(bid_id=bid.id, assessor_id=assessor.id, assigned_by_id=actor.id,
                            assigned_at=utcnow())
    try:
        with session.begin_nested():  # added inside: a clash leaves nothing pending
            session.add(assignment)
            session.flush()
    except IntegrityError:
        raise DomainError(_("%(name)s is already assigned to %(reference)s.", name=assessor.name,
                            reference=bid.reference), field="assessor") from None
    audit.record("assessment.assigned", "bid", bid.id, actor=actor,
                 after={"assessor": assessor.name, "assignment": assignment.id})
    email.send_to(assessor, _l("Bid %(reference)s to assess", reference=bid.reference),
                  "assessment_assigned", bid=bid, assignment=assignment)
    return assignment


@atomic
def assign_many(bids: list[Bid], assessor: User, actor: User) -> tuple[int, list[str]]:
    """Assign one assessor to many bids; returns how many were assigned and why others weren't.
    Each bid is all or nothing on its own (a refused one leaves no row)."""
    done, skipped = 0, []
    for bid in bids:
        try:
            assign(bid, assessor, actor)
            done += 1
        except DomainError as refused:
            skipped.append(refused.message)
    return done, skipped


def assignment_for(assignment_id: int, user: User) -> Assignment | None:
    """The assessor's own assignment, or None: nobody opens another's."""
    return session.scalar(
        select(Assignment).where(Assignment.id == assignment_id, Assignment.assessor_id == user.id)
        .options(joinedload(Assignment.bid), selectinload(Assignment.scores)))


def queue_query(user: User) -> Select:
    """The assessor's assignments with only what the queue shows: work in progress, then not
    started, then submitted; within each, the longest waiting first."""
    return (select(Assignment.id, Assignment.conflict, Assignment.status,
                   Bid.reference, Bid.title, Organisation.name.label("partnership"),
                   Fund.name.label("fund"), Organisation.name_cy.label("partnership_cy"),
                   Fund.name_cy.label("fund_cy"))
            .join(Bid, Bid.id == Assignment.bid_id)
            .join(Organisation, Organisation.id == Bid.organisation_id)
            .join(Round, Round.id == Bid.round_id).join(Fund, Fund.id == Round.fund_id)
            .where(Assignment.assessor_id == user.id)
            .order_by(Assignment.status, Assignment.assigned_at, Assignment.id))


def queue_count(user: User) -> Select:
    return select(func.count()).select_from(Assignment).where(Assignment.assessor_id == user.id)


# --- conflicts of interest -------------------------------------------------------------------


@atomic
def declare(assignment: Assignment, conflicted: bool, reason: str, actor: User) -> None:
    """The assessor declares a conflict of interest, or none, once; a conflict tells the
    managers (who reassign the bid). Raises DomainError or ``Conflict`` (declared a moment
    ago in another tab)."""
    if assignment.conflict != ConflictStatus.UNDECLARED:
        raise DomainError(_("You have already made your declaration for this bid."))
    if assignment.bid.status not in ASSESSABLE:
        raise DomainError(_("This bid is no longer being assessed."))
    if conflicted and not reason.strip():
        raise DomainError(_("Describe the conflict of interest"), field="reason")
    if len(reason.strip()) > 1000:
        raise DomainError(_("Description must be 1000 characters or fewer"), field="reason")
    text = reason.strip() if conflicted else ""
    transition = move(DECLARATION, "declare_conflict" if conflicted else "declare_none",
                      assignment, actor, record_id=assignment.bid_id,
                      values={"conflict_reason": text or None, "declared_at": utcnow()},
                      after={"assessor": actor.name, "conflicted": conflicted,
                             "reason": text or None})
    tell(transition, _l("Reassign bid %(reference)s: conflict of interest",
                        reference=assignment.bid.reference),
         "conflict_declared", bid_id=assignment.bid_id, assignment=assignment)


# --- scoring ---------------------------------------------------------------------------------


@dataclass
class ScoreInput:
    criterion_id: int
    score: int | None
    justification: str


def _check_open(assignment: Assignment) -> None:
    if assignment.conflict != ConflictStatus.NONE:
        raise DomainError(_("Declare whether you have a conflict of interest first."))
    if assignment.bid.status not in ASSESSABLE:
        raise DomainError(_("This bid is no longer being assessed."))


@atomic
def save_assessment(assignment: Assignment, inputs: list[ScoreInput],
                    recommendation: str | None, comments: str, *, submit: bool,
                    actor: User) -> None:
    """Save scores as a draft or submit them (every criterion scored and justified, and a
    recommendation). A submitted assessment is refused: it changes only by reopening it.
    The managers are told of a submission. A refusal changes nothing."""
    bid = assignment.bid
    _check_open(assignment)
    if assignment.status == AssessmentStatus.SUBMITTED:
        raise DomainError(_("You have already submitted this assessment. To change it, "
                            "reopen it first. Nothing was changed."))
    criteria = {c.id: c for c in bid.round.criteria}
    errors: list[DomainError] = []
    for item in inputs:
        criterion = criteria.get(item.criterion_id)
        if criterion is None:
            raise DomainError(_("The form does not match this round's criteria."))
        if item.score is not None and not criterion.scale_min <= item.score <= criterion.scale_max:
            errors.append(DomainError(_("Score must be between %(low)d and %(high)d",
                                        low=criterion.scale_min, high=criterion.scale_max),
                                      field=f"score-{criterion.id}"))
        needs_reason = item.score is not None or submit
        if needs_reason and not item.justification.strip():
            errors.append(DomainError(_("Give a justification for the score for “%(title)s”",
                                        title=criterion.title),
                                      field=f"justification-{criterion.id}"))
        if submit and item.score is None:
            errors.append(DomainError(_("Score “%(title)s”", title=criterion.title),
                                      field=f"score-{criterion.id}"))
    given = {item.criterion_id for item in inputs}
    if submit and set(criteria) - given:
        raise DomainError(_("Score every criterion before you submit."))
    if (submit or recommendation) and recommendation not in {r.value for r in Recommendation}:
        errors.append(DomainError(_("Select a recommendation"), field="recommendation"))
    if errors:
        raise AssessmentErrors(errors)
    now = utcnow()
    scores = {item.criterion_id: item.score for item in inputs if item.score is not None}
    values: dict[str, Any] = {
        "recommendation": Recommendation(recommendation) if recommendation else None,
        "comments": comments.strip() or None,
        # Only a submitted assessment has a score that counts; a draft has none.
        "weighted_basis_points": (weighted_basis_points(scores, list(criteria.values()))
                                  if submit else None),
        "version": assignment.version + 1,
    }
    if submit:
        values["submitted_at"] = now
    # The guarded write first: a second post of the same submission loses here.
    transition = move(ASSESSMENT, "submit" if submit else "save_draft", assignment, actor,
                      values=values, record_id=bid.id, audit_event=False)
    current = {s.criterion_id: s for s in assignment.scores}
    for item in inputs:
        row = current.get(item.criterion_id)
        if row is None:
            row = Score(criterion_id=item.criterion_id)
            assignment.scores.append(row)
        row.score, row.justification, row.updated_at = (item.score, item.justification.strip(),
                                                        now)
    session.flush()
    audit.record(transition.action, "bid", bid.id, actor=actor,
                 after=_snapshot(assignment))
    if transition.tell:
        tell(transition, _l("Bid %(reference)s: assessment submitted by %(name)s",
                            reference=bid.reference, name=actor.name),
             "assessment_submitted", bid_id=bid.id, bid=bid, assignment=assignment)


@atomic
def reopen(assignment: Assignment, actor: User) -> None:
    """Reopen a submitted assessment to change it, while the bid is still being assessed.
    It stops counting (ranking, exports, readiness for a decision) until it is submitted
    again; the managers are told. Raises DomainError or ``Conflict``."""
    if assignment.status != AssessmentStatus.SUBMITTED:
        raise DomainError(_("This assessment has not been submitted, so there is nothing to "
                            "reopen."))
    _check_open(assignment)
    bid = assignment.bid
    # The bid's row is held while it reopens: a decision being recorded at this moment
    # either finishes first (and this is refused) or reads the reopened assessment.
    status = session.scalar(select(Bid.status).where(Bid.id == bid.id).with_for_update()
                            .execution_options(populate_existing=True))
    if status not in ASSESSABLE:
        raise DomainError(_("This bid is no longer being assessed."))
    before = _snapshot(assignment)
    transition = move(ASSESSMENT, "reopen", assignment, actor, record_id=bid.id,
                      values={"weighted_basis_points": None, "submitted_at": None,
                              "version": assignment.version + 1},
                      before=before, after={"assessor": assignment.assessor.name})
    tell(transition, _l("Bid %(reference)s: assessment reopened by %(name)s",
                        reference=bid.reference, name=actor.name),
         "assessment_reopened", bid_id=bid.id, bid=bid, assignment=assignment)


class AssessmentErrors(DomainError):
    def __init__(self, errors: list[DomainError]) -> None:
        super().__init__(errors[0].message, errors[0].field)
        self.errors = errors


def _snapshot(assignment: Assignment) -> dict[str, Any]:
    return {
        "assessor": assignment.assessor.name,
        "status": assignment.status.value,
        "scores": {str(s.criterion_id): {"score": s.score, "justification": s.justification}
                   for s in sorted(assignment.scores, key=lambda s: s.criterion_id)},
        "recommendation": assignment.recommendation.value if assignment.recommendation else None,
        "weighted": assignment.weighted_basis_points,
    }


def others_visible_to(assignment: Assignment) -> list[Assignment]:
    """Other assessors' submitted assessments: shown only once one's own is submitted."""
    if assignment.status != AssessmentStatus.SUBMITTED:
        return []
    return list(session.scalars(
        select(Assignment).where(Assignment.bid_id == assignment.bid_id,
                                 Assignment.id != assignment.id,
                                 Assignment.status == AssessmentStatus.SUBMITTED)
        .options(selectinload(Assignment.scores))))


def assignments_of(bid: Bid) -> list[Assignment]:
    return list(session.scalars(
        select(Assignment).where(Assignment.bid_id == bid.id)
        .options(selectinload(Assignment.scores)).order_by(Assignment.id)))


@dataclass
class CriterionRow:
    criterion: Criterion
    scores: list[int | None]
    flagged: bool
    moderated: int | None


def side_by_side(bid: Bid, submitted: list[Assignment],
                 moderation: Moderation | None) -> list[CriterionRow]:
    moderated = {m.criterion_id: m.score for m in moderation.scores} if moderation else {}
    rows = []
    for criterion in bid.round.criteria:
        scores = [next((s.score for s in a.scores if s.criterion_id == criterion.id), None)
                  for a in submitted]
        given = [s for s in scores if s is not None]
        flagged = len(given) > 1 and max(given) - min(given) >= DISAGREEMENT
        rows.append(CriterionRow(criterion, scores, flagged, moderated.get(criterion.id)))
    return rows


def moderation_of(bid: Bid) -> Moderation | None:
    return session.scalar(select(Moderation).where(Moderation.bid_id == bid.id)
                          .options(selectinload(Moderation.scores)))


_MODERATED_MEANWHILE = _l("Another manager saved moderated scores for this bid a moment ago. "
                          "Check them and save again.")


def moderation_stamp(moderation: Moderation | None) -> str:
    """What identifies the moderation a page showed ("" for none yet)."""
    return "" if moderation is None else moderation.moderated_at.isoformat()


@atomic
def moderate(bid: Bid, scores: dict[int, int], rationale: str, actor: User,
             seen: str | None = None) -> Moderation:
    """The manager's moderated score per criterion, with the rationale. Saved any number of
    times: the scores are updated in place by criterion. A refusal changes nothing.

    ``seen`` is the moderation the manager's page showed (its ``moderation_stamp``; "" for
    none): if another manager has saved since, ``Conflict`` is raised rather than writing
    over their scores (None: no check, for callers without a page)."""
    policy.require(actor, Action.MANAGE_GRANTS, field="rationale",
                   otherwise=_("Only a grants manager can moderate scores."))
    if bid.status not in ASSESSABLE:
        raise DomainError(_("This bid is no longer being assessed."))
    if not rationale.strip():
        raise DomainError(_("Explain the moderated scores"), field="rationale")
    criteria = list(bid.round.criteria)
    for criterion in criteria:
        score = scores.get(criterion.id)
        if score is None:
            raise DomainError(_("Give a moderated score for “%(title)s”", title=criterion.title),
                              field=f"score-{criterion.id}")
        if not criterion.scale_min <= score <= criterion.scale_max:
            raise DomainError(_("Score must be between %(low)d and %(high)d",
                                low=criterion.scale_min, high=criterion.scale_max),
                              field=f"score-{criterion.id}")
    chosen = {c.id: scores[c.id] for c in criteria}
    moderation = moderation_of(bid)
    before = None
    if moderation is None:
        moderation = Moderation(bid_id=bid.id, moderated_by_id=actor.id, rationale="",
                                weighted_basis_points=0, moderated_at=utcnow())
        try:
            with session.begin_nested():  # added inside: a clash leaves nothing pending
                session.add(moderation)
                session.flush()
        except IntegrityError:  # another manager moderated it a moment ago
            raise Conflict(str(_MODERATED_MEANWHILE), field="rationale") from None
    else:
        before = {"scores": {str(m.criterion_id): m.score for m in moderation.scores},
                  "rationale": moderation.rationale}
        if seen is not None and seen != moderation_stamp(moderation):
            raise Conflict(str(_MODERATED_MEANWHILE), field="rationale")
        # Guarded like a transition: of two saves from the same page, one wins.
        won = cast(CursorResult[Any], session.execute(
            update(Moderation).where(Moderation.id == moderation.id,
                                     Moderation.moderated_at == moderation.moderated_at)
            .values(moderated_at=utcnow()).execution_options(synchronize_session=False)))
        if won.rowcount != 1:
            raise Conflict(str(_MODERATED_MEANWHILE), field="rationale")
    moderation.moderated_by_id = actor.id
    moderation.moderated_at = utcnow()
    moderation.rationale = rationale.strip()
    moderation.weighted_basis_points = weighted_basis_points(chosen, criteria)
    # In place by criterion: kept rows change, new ones are added, the rest go (flushed
    # before any insert, so the unique (moderation, criterion) key never sees two).
    by_criterion = {row.criterion_id: row for row in moderation.scores}
    for criterion_id in list(by_criterion):
        if criterion_id not in chosen:
            moderation.scores.remove(by_criterion.pop(criterion_id))
    session.flush()
    for criterion_id, score in chosen.items():
        row = by_criterion.get(criterion_id)
        if row is None:
            moderation.scores.append(ModeratedScore(criterion_id=criterion_id, score=score))
        else:
            row.score = score
    session.flush()
    audit.record("assessment.moderated", "bid", bid.id, actor=actor, before=before,
                 after={"scores": {str(k): v for k, v in chosen.items()},
                        "rationale": moderation.rationale,
                        "weighted": moderation.weighted_basis_points})
    return moderation


# --- ranking ---------------------------------------------------------------------------------


@dataclass
class RankedBid:
    bid: Any  # a row: id, reference, title, partnership, amount_requested_pence, submitted_at
    basis_points: int | None
    moderated: bool
    assessed: int
    assigned: int
    cumulative_pence: int
    fits: bool
    readiness: Readiness  # whether the round's required assessments are in


RANKABLE = ASSESSABLE


def ranking(round_: Round) -> list[RankedBid]:
    """Bids awaiting a decision, best score first, with the running total asked for against
    what remains of the budget. Three queries whatever the number of bids."""
    bids = list(session.execute(
        select(Bid.id, Bid.reference, Bid.title, Organisation.name.label("partnership"),
               Organisation.name_cy.label("partnership_cy"),
               Bid.amount_requested_pence, Bid.submitted_at)
        .join(Organisation, Organisation.id == Bid.organisation_id)
        .where(Bid.round_id == round_.id, Bid.status.in_(RANKABLE))))
    ids = [b.id for b in bids]
    moderated = dict(session.execute(
        select(Moderation.bid_id, Moderation.weighted_basis_points)
        .where(Moderation.bid_id.in_(ids))).all()) if ids else {}
    assessed: dict[int, list[int]] = {}
    assigned: dict[int, int] = {}
    if ids:
        for bid_id, status, points in session.execute(
                select(Assignment.bid_id, Assignment.status, Assignment.weighted_basis_points)
                .where(Assignment.bid_id.in_(ids),
                       Assignment.conflict != ConflictStatus.CONFLICTED)):
            assigned[bid_id] = assigned.get(bid_id, 0) + 1
            if status == AssessmentStatus.SUBMITTED and points is not None:
                assessed.setdefault(bid_id, []).append(points)

    required = round_.required_assessments

    def score(bid: Any) -> int | None:
        if bid.id in moderated:
            return moderated[bid.id]
        points = assessed.get(bid.id)
        return round(sum(points) / len(points)) if points else None

    ordered = sorted(bids, key=lambda b: (score(b) is None, -(score(b) or 0), b.submitted_at
                                          or utcnow(), b.id))
    remaining = round_.remaining_pence
    running = 0
    ranked = []
    for bid in ordered:
        running += bid.amount_requested_pence
        done, total = len(assessed.get(bid.id, [])), assigned.get(bid.id, 0)
        ranked.append(RankedBid(bid, score(bid), bid.id in moderated, done, total,
                                running, running <= remaining,
                                readiness_of(done, total, required)))
    return ranked
