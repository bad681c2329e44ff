from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from webapp.errors import ApplicationError
from webapp.webhooks import services
from webapp.webhooks.models import Delivery, DeliveryAttempt, Endpoint

ENDPOINT_EDITABLE = ["url", "description", "event_types", "is_active"]


class EndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https", validators=Endpoint._meta.get_field("url").validators)

    class Meta:
        model = Endpoint
        fields = ENDPOINT_EDITABLE

    def clean_event_types(self):
        try:
            return services.event_types_valid(self.cleaned_data.get("event_types") or [])
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    """Staff manage endpoints here or through the API; both go through the services (secret, audit log)."""

    form = EndpointForm
    list_display = ("id", "url", "description", "is_active", "event_types", "created_at")
    list_filter = ("is_active",)
    fields = [*ENDPOINT_EDITABLE, "secret", "disabled_reason", "created_at", "updated_at"]
    readonly_fields = ["secret", "disabled_reason", "created_at", "updated_at"]
    actions = ["send_test_event", "rotate_secret"]

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in ENDPOINT_EDITABLE}
        if change:
            saved = services.endpoint_update(endpoint=Endpoint.objects.get(pk=obj.pk), **values)
        else:
            saved = services.endpoint_create(**values)
        obj.pk, obj.secret = saved.pk, saved.secret

    def delete_model(self, request, obj):
        services.endpoint_delete(endpoint=obj)

    @admin.action(description=gettext_lazy("Send a test event"))
    def send_test_event(self, request, queryset):
        for endpoint in queryset:
            try:
                services.endpoint_send_test(endpoint=endpoint)
            except ApplicationError as exc:
                self.message_user(request, f"{endpoint}: {exc.message}", messages.ERROR)
        self.message_user(request, _("Test events queued."))

    @admin.action(description=gettext_lazy("Rotate the secret"))
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_rotate_secret(endpoint=endpoint)


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["started_at", "duration_ms", "status_code", "error", "response_body"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "event_type", "endpoint", "status", "attempts", "last_status_code", "created_at")
    list_filter = ("status", "event_type")
    search_fields = ("event_id",)
    readonly_fields = [f.name for f in Delivery._meta.fields]
    inlines = [AttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=gettext_lazy("Redeliver"))
    def redeliver(self, request, queryset):
        for delivery in queryset.select_related("endpoint"):
            try:
                services.delivery_redeliver(delivery=delivery)
            except ApplicationError as exc:
                self.message_user(request, f"{delivery}: {exc.message}", messages.ERROR)
