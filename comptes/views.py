from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods

from .forms import (
    LoginForm,
    PreferencesForm,
    QueuedPasswordResetForm,
    UnlockingSetPasswordForm,
)

login = auth_views.LoginView.as_view(
    template_name="comptes/login.html",
    authentication_form=LoginForm,
    redirect_authenticated_user=True,
)
logout = auth_views.LogoutView.as_view()
password_change = auth_views.PasswordChangeView.as_view(
    template_name="comptes/password_change.html",
    success_url=reverse_lazy("comptes:password_change_done"),
)
password_change_done = auth_views.PasswordChangeDoneView.as_view(
    template_name="comptes/password_change_done.html"
)
password_reset = auth_views.PasswordResetView.as_view(
    template_name="comptes/password_reset.html",
    email_template_name="comptes/password_reset_email.txt",
    subject_template_name="comptes/password_reset_subject.txt",
    form_class=QueuedPasswordResetForm,
    success_url=reverse_lazy("comptes:password_reset_done"),
)
password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="comptes/password_reset_done.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="comptes/password_reset_confirm.html",
    form_class=UnlockingSetPasswordForm,
    success_url=reverse_lazy("comptes:password_reset_complete"),
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="comptes/password_reset_complete.html"
)


@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(
        request.POST if request.method == "POST" else None, instance=request.user
    )
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Préférences enregistrées.")
        return redirect("comptes:preferences")
    return render(request, "comptes/preferences.html", {"form": form})
