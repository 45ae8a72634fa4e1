"""Browser pages of the second factor (accounts.views_otp), under /accounts/otp/."""

from django.urls import path

from accounts import views_otp

app_name = "accounts"

urlpatterns = [
    path("setup/", views_otp.otp_setup, name="otp-setup"),
    path("verify/", views_otp.otp_verify, name="otp-verify"),
    path("recovery-codes/", views_otp.otp_recovery_codes, name="otp-recovery-codes"),
]
