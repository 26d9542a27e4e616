"""A customer's own data: the download of everything the portal keeps about it, and the
anonymisation an admin carries out on request.

Every system that keeps a customer's data registers with `portal.privacy.registry`
(one `register(...)` call: what it exports, how it anonymises); the built-in systems are
registered in `providers.py`.
"""

from flask import Blueprint

bp = Blueprint("privacy", __name__)
