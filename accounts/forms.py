"""Forms for the second step of sign-in and for adding an authenticator app."""

from django import forms


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=16,
        help_text="The 6-digit code your authenticator app shows now, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split()).replace("-", "").lower()  # recovery codes are lower case


class AuthenticatorAppForm(forms.Form):
    name = forms.CharField(
        label="Name for this app",
        max_length=64,
        initial="Authenticator app",
        help_text="So you can tell your devices apart, such as “Phone”.",
    )
    code = forms.CharField(
        label="Code from the app",
        max_length=8,
        help_text="The 6-digit code the app shows after you add the key.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split())
