from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from cpor.accounts.models import User


@admin.register(User)
class CporUserAdmin(UserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "operator_role", "is_staff")
    list_filter = ("operator_role", "is_staff", "is_active")
    fieldsets = (*UserAdmin.fieldsets, ("CPOR", {"fields": ("operator_role", "language")}))
