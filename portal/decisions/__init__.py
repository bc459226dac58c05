from flask import Blueprint

bp = Blueprint("decisions", __name__)

from portal.decisions import agreements, forms, plans, routes, setup, variations  # noqa: E402,F401
