from flask import Blueprint

bp = Blueprint("applicant", __name__)

from portal.applicant import awards, plan, routes  # noqa: E402,F401
