"""Signing in: API tokens that expire and rotate (authentication.py, services.py, api.py), and the
throttle on wrong passwords for the login form, the admin's and the token endpoint (lockout.py, on
django-axes). A core package: it imports none of the apps."""
