from flask import Blueprint

bp = Blueprint("public", __name__)

from portal.public import routes, transparency  # noqa: E402,F401
