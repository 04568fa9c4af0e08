"""The domain: tables, the scoring rules, imports and the unit of work.

What lives here:
- tables (SQLAlchemy 2 typed models): ``people``, ``plan``, ``meetings``, ``mailbox``,
  ``evaluations``, ``reviews``, ``talking_points``, on the shared ``base`` (naming, column helpers);
- pure rules over plain data: ``scoring`` (every figure a digest shows), ``checkins``
  (when each 1:1 and its agenda are due), ``review_cycle`` (who holds a review up);
- ``queries``: read-side queries that turn the tables into plain data;
- ``importing``: the people, plan and meetings files; ``exporting``: the plan and the
  people written back out as those files; ``migrations`` (Alembic) and
  ``migrate`` (applying them from code); ``db``: engines, sessions, the unit of work.

Who may import it: ``drumbeat`` (CLI), ``workers`` and tests. ``models`` never
imports ``mail`` or ``workers``: it knows nothing of SMTP, IMAP or the broker.
docs/design.md describes the domain these tables hold.
"""

from models.base import Base
from models.evaluations import Evaluation
from models.mailbox import (
    ImapCursor,
    InboundMessage,
    InboundStatus,
    OutboundMessage,
    OutboundStatus,
)
from models.meetings import Meeting, MeetingStatus
from models.people import Person, PersonAlias
from models.plan import (
    Goal,
    Initiative,
    PlanChange,
    PlanLevel,
    Project,
    Task,
    TaskHistory,
    TaskStatus,
)
from models.reviews import AckState, Review, ReviewCycle, StepState
from models.talking_points import TalkingPoint, TimeAway

__all__ = [
    "AckState",
    "Base",
    "Evaluation",
    "Goal",
    "ImapCursor",
    "InboundMessage",
    "InboundStatus",
    "Initiative",
    "Meeting",
    "MeetingStatus",
    "OutboundMessage",
    "OutboundStatus",
    "Person",
    "PersonAlias",
    "PlanChange",
    "PlanLevel",
    "Project",
    "Review",
    "ReviewCycle",
    "StepState",
    "TalkingPoint",
    "Task",
    "TaskHistory",
    "TaskStatus",
    "TimeAway",
]
