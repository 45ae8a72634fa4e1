from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Board, Role


class BoardSerializer(serializers.ModelSerializer[Board]):
    roles = serializers.SerializerMethodField(help_text="The requesting user's roles on this board.")

    class Meta:
        model = Board
        fields = ("id", "name", "roles")

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=Role.choices)))
    def get_roles(self, board: Board) -> list[str]:
        memberships = getattr(board, "my_memberships", [])
        return memberships[0].roles if memberships else []
