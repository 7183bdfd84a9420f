from django import forms
from django.contrib.auth.forms import (
    AdminUserCreationForm,
    AuthenticationForm,
    PasswordResetForm,
    SetPasswordForm,
    UserChangeForm,
)
from django.template import loader

from core.outbox import courriel_queue

from .models import User


class UserAdminCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "first_name", "last_name", "role")

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError("Un utilisateur a déjà cette adresse e-mail.")
        return email


class UserAdminChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Adresse e-mail",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": "Adresse e-mail ou mot de passe incorrect. "
        "Après plusieurs échecs, le compte est bloqué quelques minutes.",
        "inactive": "Ce compte est désactivé. Contactez l'administrateur.",
    }

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


class QueuedPasswordResetForm(PasswordResetForm):
    """Password reset whose e-mail is recorded, then sent by the worker: the answer is the same,
    and as quick, whether the address is known or not and whether the broker is up or not."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        courriel_queue(subject=subject, body=body, to=[to_email])


class UnlockingSetPasswordForm(SetPasswordForm):
    """The new password of a completed reset also lifts the login locks on the account: an
    attacker who keeps failing on a colleague's account can delay them, never keep them out
    (the reset link goes to the owner's mailbox only)."""

    def save(self, commit=True):
        from .lockout import unlock  # lockout imports the models and axes at load time

        user = super().save(commit=commit)
        unlock(user)
        return user


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["digest_hebdo"]
