"""Sign in and out, password reset (Django's views with our templates), sign-up by code or invite."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.forms import LoginForm, SignupForm


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


@require_http_methods(["GET", "POST"])
def signup(request, invite_token: str = ""):
    if request.user.is_authenticated:
        return redirect("dashboard")
    ticket, ticket_error = None, ""
    if invite_token:
        try:
            ticket = services.join_ticket_for(invite_token=invite_token)
        except services.SignupError as exc:
            ticket_error = str(exc)
    form = SignupForm(request.POST or None, initial={"code": request.GET.get("code", "")})
    if request.method == "POST" and form.is_valid() and not ticket_error:
        data = form.cleaned_data
        try:
            user = services.user_signup(
                username=data["username"],
                email=data["email"],
                password=data["password"],
                full_name=data["full_name"],
                code=data["code"],
                invite_token=invite_token,
            )
        except services.SignupError as exc:
            form.add_error(None, str(exc))
        else:
            login(request, user, backend="accounts.backends.UsernameOrEmailBackend")
            messages.success(request, "Welcome to Berth! Your course is on your dashboard.")
            return redirect("dashboard")
    context = {
        "form": form,
        "ticket": ticket,
        "ticket_error": ticket_error,
        "invite_token": invite_token,
        "open_signup": settings.BERTH_OPEN_SIGNUP,
    }
    return render(request, "accounts/signup.html", context)
