"""Settings for managers and admins; the views live in the routes package, which the app
factory registers."""
