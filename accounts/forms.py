from django import forms
from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label="Username or email",
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )


class SignupForm(forms.Form):
    code = forms.CharField(
        label="Join code", max_length=32, required=False, help_text="The code your instructor gave you."
    )
    full_name = forms.CharField(label="Full name", max_length=150)
    username = forms.RegexField(
        label="Username",
        max_length=40,
        regex=r"^[A-Za-z0-9_.-]{3,40}$",
        error_messages={"invalid": "3–40 letters, digits, dots, dashes or underscores."},
    )
    email = forms.EmailField(label="Email", max_length=254)
    password = forms.CharField(
        label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), max_length=128
    )
