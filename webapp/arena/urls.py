from django.urls import path

from webapp.arena import api

urlpatterns = [
    path("arena/leaderboard/", api.LeaderboardView.as_view(), name="arena-leaderboard"),
    path("arena/exclusions/", api.ExclusionListView.as_view(), name="arena-exclusions"),
    path("arena/exclusions/<str:client_hash>/", api.ExclusionDetailView.as_view(), name="arena-exclusion"),
]
