from django.contrib import admin

from webapp.arena import services
from webapp.arena.models import Battle, BlockedTerm, ExcludedClient, Vote


@admin.register(Battle)
class BattleAdmin(admin.ModelAdmin):
    list_display = ["id", "mode", "status", "language", "variant_a", "variant_b", "created_at"]
    list_filter = ["mode", "status", "language"]
    search_fields = ["prompt", "client_hash"]
    readonly_fields = [f.name for f in Battle._meta.fields]


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ["id", "battle", "outcome", "language", "identity_revealed", "excluded", "created_at"]
    list_filter = ["outcome", "language", "identity_revealed", "excluded"]
    search_fields = ["client_hash"]
    readonly_fields = [f.name for f in Vote._meta.fields]
    actions = ["exclude_clients"]

    @admin.action(description="Exclude the clients of the selected votes")
    def exclude_clients(self, request, queryset):
        for client in set(queryset.values_list("client_hash", flat=True)):
            services.client_exclude(client_hash=client, reason="excluded from the admin", by=request.user)


@admin.register(ExcludedClient)
class ExcludedClientAdmin(admin.ModelAdmin):
    list_display = ["client_hash", "reason", "excluded_by", "created_at"]
    readonly_fields = ["client_hash", "excluded_by", "created_at"]

    def has_add_permission(self, request):
        return False  # through the stats page or the API, which also drop the client's votes

    def delete_model(self, request, obj):
        services.client_include(client_hash=obj.client_hash)

    def delete_queryset(self, request, queryset):
        for client in list(queryset.values_list("client_hash", flat=True)):
            services.client_include(client_hash=client)


admin.site.register(BlockedTerm)
