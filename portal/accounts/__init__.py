"""Accounts: users, customer accounts, contacts and service locations; log-in, sessions,
passwords, sign-up, invitations and the profile. Its views and blueprint live in
portal/accounts/routes/, imported by the app factory only, so that importing a model or
a service never drags the web layer in."""
