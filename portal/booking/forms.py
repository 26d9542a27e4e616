from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class ConfirmBookingForm(FlaskForm):
    note = TextAreaField("What would you like us to do?", validators=[Optional(), Length(max=2000)])
    idempotency_key = HiddenField(validators=[DataRequired(), Length(max=64)])


class NewLocationForm(FlaskForm):
    label = StringField("Name for this address", validators=[DataRequired(), Length(max=80)])
    street = StringField("Street and number", validators=[DataRequired(), Length(max=160)])
    city = StringField("Town or city", validators=[DataRequired(), Length(max=80)])
    postal_code = StringField("Postcode", validators=[DataRequired(), Length(max=16)])
    country = SelectField(
        "Country",
        choices=[SelectChoice("GB", "United Kingdom"), SelectChoice("US", "United States")],
        default="GB",
    )
