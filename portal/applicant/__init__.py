from flask import Blueprint

bp = Blueprint("applicant", __name__)

from portal.applicant import routes  # noqa: E402,F401
from portal.applicant import awards  # noqa: E402,F401
