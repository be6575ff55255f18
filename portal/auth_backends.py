"""Authentication backends."""
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UnitModelBackend(ModelBackend):
    """The standard backend, loading the user's unit with the user: every page shows it in the
    header, and this way that costs no query of its own."""

    def get_user(self, user_id):
        # Sliced, not first(): the key is unique, and first()'s ORDER BY costs compiling on every request.
        user = next(iter(get_user_model()._default_manager.select_related("unit").filter(pk=user_id)[:1]), None)
        return user if user is not None and self.user_can_authenticate(user) else None
