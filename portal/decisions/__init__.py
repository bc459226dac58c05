from flask import Blueprint

bp = Blueprint("decisions", __name__)

from portal.decisions import routes, setup  # noqa: E402,F401
