from flask import Blueprint

bp = Blueprint("review", __name__)

from portal.review import routes  # noqa: E402,F401
