"""Staff users, for admins: invite by e-mail, send an invitation again, change role,
(de)activate.

An admin never chooses a staff member's password: the invitee follows the e-mailed link
and chooses it (portal.accounts.invitations; `portal create-user` still makes the first
admin from the command line). Until then the user is listed as invited and cannot log in.

An inactive user cannot log in, and a session it already has stops working (flask-login
treats an inactive user as not authenticated). Deactivating an agent's user also takes
the agent off the schedule, parking its upcoming bookings for the scheduler."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from portal.access import role_required
from portal.accounts import invitations
from portal.accounts.links import INVITE_LIFETIME
from portal.accounts.models import User
from portal.db import commit, get_session
from portal.dispatch.disruptions import disruption_message
from portal.errors import PortalError
from portal.settings import services as svc
from portal.settings.forms import STAFF_ROLE_CHOICES, STAFF_ROLES, ActionForm, RoleForm
from portal.settings.helpers import check_action_form, me, page_arg, refuse, save_form, status
from portal.settings.user_forms import StaffInviteForm


@role_required("admin")
def users():
    role = request.args.get("role") or None
    if role not in STAFF_ROLES:
        role = None
    session = get_session()
    page = svc.list_staff_users(session, role=role, page=page_arg())
    invited = [u.id for u in page.items if invitations.user_state(u) == "invited"]
    return render_template(
        "settings/users.html",
        page=page,
        role=role,
        roles=STAFF_ROLE_CHOICES,
        args={"role": role} if role else {},
        state_of=invitations.user_state,
        invited_at=invitations.invitations_sent(session, invited),
    )


@role_required("admin")
def user_new():
    """Invite a staff user: they choose their own password through the e-mailed link."""
    form = StaffInviteForm(data={"role": "agent", "time_zone": me().time_zone})
    done, error = save_form(
        form,
        lambda: svc.invite_team_user(
            get_session(),
            me(),
            full_name=form.full_name.data,
            email=form.email.data,
            role=form.role.data,
            time_zone=form.time_zone.data,
        ),
        _sent_message,
        lambda user: url_for("settings.user", user_id=user.id),
    )
    if done:
        return done
    return render_template("settings/user_new.html", form=form, error=error), status(form, error)


# "Alex is now back office." rather than the stored name.
ROLE_WORDS = {choice.value: choice.label.split(" (")[0].lower() for choice in STAFF_ROLE_CHOICES}


def _sent_message(user: User) -> str:
    days = INVITE_LIFETIME.days
    return (
        f"We sent {user.full_name} an invitation at {user.email}. The link works for "
        f"{days} days; they can log in once they have chosen a password."
    )


def _staff_user(user_id: int) -> User:
    return svc.get_staff_user(get_session(), user_id) or abort(404)


def _user_page(user: User, *, role_form: RoleForm | None = None, error: str | None = None):
    form = role_form or RoleForm(formdata=None, data={"role": user.role})
    session = get_session()
    agent = svc.agent_for_user(session, user)
    state = invitations.user_state(user)
    sent = invitations.invitations_sent(session, [user.id]).get(user.id)
    return render_template(
        "settings/user.html",
        user=user,
        agent=agent,
        state=state,
        invited_at=sent if state == "invited" else None,
        role_form=form,
        action_form=ActionForm(),
        error=error,
    ), status(form, error)


@role_required("admin")
def user(user_id: int):
    return _user_page(_staff_user(user_id))


@role_required("admin")
def user_role(user_id: int):
    user = _staff_user(user_id)
    form = RoleForm()
    done, error = save_form(
        form,
        lambda: svc.change_role(get_session(), me(), user, form.role.data),
        lambda _: f"{user.full_name} is now {ROLE_WORDS.get(user.role, user.role)}.",
        url_for("settings.user", user_id=user.id),
    )
    if done:
        return done
    return _user_page(user, role_form=form, error=error)


@role_required("admin")
def user_active(user_id: int, action: str):
    user = _staff_user(user_id)
    form = check_action_form()
    try:
        parked = svc.set_user_active(get_session(), me(), user, action == "activate")
    except PortalError as err:
        return _user_page(user, error=refuse(form, err))
    commit()
    if user.active:
        flash(f"{user.full_name} can log in again.", "success")
    else:
        flash(f"{user.full_name} can no longer log in.", "success")
    if parked:
        flash(disruption_message(parked), "info")
    return redirect(url_for("settings.user", user_id=user.id))


@role_required("admin")
def user_invitation(user_id: int):
    """Send an invited staff user a new link."""
    user = _staff_user(user_id)
    form = check_action_form()
    try:
        invitations.resend_staff_invitation(get_session(), me(), user)
    except PortalError as err:
        return _user_page(user, error=refuse(form, err))
    commit()
    flash(_sent_message(user), "success")
    return redirect(url_for("settings.user", user_id=user.id))


def register(bp: Blueprint) -> None:
    """Staff users: invite, resend, change role, (de)activate."""
    bp.add_url_rule("/users", view_func=users)
    bp.add_url_rule("/users/new", view_func=user_new, methods=["GET", "POST"])
    bp.add_url_rule("/users/<int:user_id>", view_func=user)
    bp.add_url_rule("/users/<int:user_id>/role", view_func=user_role, methods=["POST"])
    bp.add_url_rule(
        "/users/<int:user_id>/<any(activate, deactivate):action>",
        view_func=user_active,
        methods=["POST"],
    )
    bp.add_url_rule("/users/<int:user_id>/invitation", view_func=user_invitation, methods=["POST"])
