"""The booking portal. `portal.app.create_app()` builds the Flask application; the README's
"Architecture" section shows the floors the packages stand on."""
