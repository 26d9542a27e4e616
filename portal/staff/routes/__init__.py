"""The staff blueprint: an agent's own tasks (home.py) and the scheduler's console
(console.py). Each module names its own URLs in `register(bp)`."""

from flask import Blueprint

from portal.staff.routes import console, home

bp = Blueprint("staff", __name__)
home.register(bp)
console.register(bp)
