"""Skills, territories and holidays: short lists a manager keeps up to date."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from portal.access import role_required
from portal.db import commit, get_session
from portal.formatting import org_zone
from portal.settings import services as svc
from portal.settings.forms import ActionForm, HolidayForm, SkillForm, TerritoryForm
from portal.settings.helpers import check_action_form, load_or_404, me, page_arg, save_form, status
from portal.timeutil import now_utc, to_local
from portal.workforce import services as staff
from portal.workforce.models import Holiday, Skill, Territory

# --- skills ------------------------------------------------------------------------------


@role_required("manager")
def skills():
    form = SkillForm()
    done, error = save_form(
        form,
        lambda: staff.create_skill(get_session(), form.name.data, by=me()),
        lambda skill: f"Skill {skill.name} added.",
        url_for("settings.skills"),
    )
    if done:
        return done
    page = svc.list_skills(get_session(), page=page_arg())
    return render_template("settings/skills.html", page=page, form=form, error=error), status(
        form, error
    )


@role_required("manager")
def skill_edit(skill_id: int):
    skill = load_or_404(Skill, skill_id)
    form = SkillForm(obj=skill)
    done, error = save_form(
        form,
        lambda: staff.rename_skill(get_session(), skill, form.name.data, by=me()),
        lambda _: f"Skill renamed to {skill.name}.",
        url_for("settings.skills"),
    )
    if done:
        return done
    return render_template("settings/skill_form.html", form=form, skill=skill, error=error), status(
        form, error
    )


# --- territories -------------------------------------------------------------------------


@role_required("manager")
def territories():
    page = svc.list_territories(get_session(), page=page_arg())
    return render_template("settings/territories.html", page=page)


@role_required("manager")
def territory_new():
    form = TerritoryForm(data={"time_zone": org_zone()})
    return _territory_form(
        form,
        None,
        lambda: staff.create_territory(get_session(), **_territory_values(form), by=me()),
        lambda territory: f"Territory {territory.name} added.",
    )


@role_required("manager")
def territory_edit(territory_id: int):
    territory = load_or_404(Territory, territory_id)
    form = TerritoryForm(
        data={
            "name": territory.name,
            "time_zone": territory.time_zone,
            "prefixes": ", ".join(p.prefix for p in territory.prefixes),
        }
    )
    return _territory_form(
        form,
        territory,
        lambda: staff.update_territory(
            get_session(), territory, **_territory_values(form), by=me()
        ),
        lambda _: f"Territory {territory.name} saved.",
    )


def _territory_form(form: TerritoryForm, territory: Territory | None, save, said):
    """The territory form, new or edited: saved and back to the list, or shown again."""
    done, error = save_form(form, save, said, url_for("settings.territories"))
    if done:
        return done
    return render_template(
        "settings/territory_form.html", form=form, territory=territory, error=error
    ), status(form, error)


def _territory_values(form: TerritoryForm) -> dict:
    return {
        "name": form.name.data,
        "time_zone": form.time_zone.data,
        "prefixes": staff.split_prefixes(form.prefixes.data or ""),
    }


# --- holidays ----------------------------------------------------------------------------


@role_required("manager")
def holidays():
    form = HolidayForm()
    done, error = save_form(
        form,
        lambda: staff.add_holiday(get_session(), form.day.data, form.name.data, by=me()),
        lambda holiday: f"{holiday.name} added: no windows are offered that day.",
        url_for("settings.holidays"),
    )
    if done:
        return done
    past = request.args.get("past") == "1"
    today = to_local(now_utc(), org_zone()).date()
    page = svc.list_holidays(get_session(), today=today, past=past, page=page_arg())
    return render_template(
        "settings/holidays.html",
        page=page,
        form=form,
        past=past,
        action_form=ActionForm(),
        error=error,
    ), status(form, error)


@role_required("manager")
def holiday_remove(holiday_id: int):
    holiday = load_or_404(Holiday, holiday_id)
    check_action_form()
    staff.remove_holiday(get_session(), holiday, by=me())
    commit()
    flash(f"{holiday.name} removed: that day's windows are offered again.", "success")
    return redirect(url_for("settings.holidays"))


def register(bp: Blueprint) -> None:
    """Skills, territories and holidays."""
    bp.add_url_rule("/skills", view_func=skills, methods=["GET", "POST"])
    bp.add_url_rule("/skills/<int:skill_id>", view_func=skill_edit, methods=["GET", "POST"])
    bp.add_url_rule("/territories", view_func=territories)
    bp.add_url_rule("/territories/new", view_func=territory_new, methods=["GET", "POST"])
    bp.add_url_rule(
        "/territories/<int:territory_id>", view_func=territory_edit, methods=["GET", "POST"]
    )
    bp.add_url_rule("/holidays", view_func=holidays, methods=["GET", "POST"])
    bp.add_url_rule("/holidays/<int:holiday_id>/remove", view_func=holiday_remove, methods=["POST"])
