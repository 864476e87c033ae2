"""The upload form of the customer import page."""

from django import forms
from django.utils.translation import gettext_lazy as _

# The page imports synchronously; bigger files go through `manage.py import_customers`.
UPLOAD_MAX_BYTES = 5 * 1024 * 1024
UPLOAD_MAX_FILES = 4


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".csv,text/csv"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class ImportForm(forms.Form):
    files = MultipleFileField(
        label=_("CSV files"),
        help_text=_("Up to 4 files of at most 5 MB each; larger imports run with the command."),
    )
    dry_run = forms.BooleanField(label=_("Only check the files, write nothing"), required=False)

    def clean_files(self):
        files = self.cleaned_data["files"]
        if len(files) > UPLOAD_MAX_FILES:
            raise forms.ValidationError(_("Upload at most %d files at once.") % UPLOAD_MAX_FILES)
        for file in files:
            if file.size > UPLOAD_MAX_BYTES:
                raise forms.ValidationError(
                    _("%s is larger than 5 MB: use manage.py import_customers.") % file.name
                )
        return files
