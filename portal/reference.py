"""Reference data every layer may read: the choices a bid offers and the words shown for them.

Codes are stored on bids; the words are translated when shown. The priority categories
(emerging, preventing, sustaining) are the Strategic Assessment's groups of priority areas (seed
``000_6e40c65fe2ebdc8f.txt``, paragraph 11); the issue types are the fund's local issues.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

ISSUE_TYPES = [
    ("anti_social_behaviour", _l("Anti-social behaviour")),
    ("road_safety", _l("Road safety")),
    ("bike_theft", _l("Bike theft")),
    ("fly_tipping", _l("Fly tipping")),
    ("vawg", _l("Violence against women and girls")),
    ("youth", _l("Youth")),
    ("other", _l("Other")),
]
PRIORITY_CATEGORIES = [
    ("emerging", _l("Emerging")),
    ("preventing", _l("Preventing")),
    ("sustaining", _l("Sustaining")),
]
# An assessor's advice (the form's choices, the pages' and the workbook's words). "Fund" here is
# the verb; elsewhere it is the noun (a fund): Welsh has different words ("Ariannu", "Cronfa"),
# so the recommendation's has a context of its own.
RECOMMENDATIONS = [
    ("fund", lazy_pgettext("recommendation", "Fund")),
    ("fund_with_conditions", _l("Fund with conditions")),
    ("do_not_fund", _l("Do not fund")),
]
