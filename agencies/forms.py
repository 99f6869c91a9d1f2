"""The profile page's form: a deputy secretary's certification switch for their agency."""

from django import forms


class CertificationForm(forms.Form):
    certification_required = forms.BooleanField(
        label="Delegates' updates wait for my certification",
        required=False,
        help_text="When on, an update a delegate posts is a draft until you certify it; OMB sees it only then.",
    )
