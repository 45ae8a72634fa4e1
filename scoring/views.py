"""Calculator pages: the registry's systems as browser forms (issue: calculators in the browser).

Login is enforced by LoginRequiredMiddleware; any signed-in user may calculate, because a
calculator stores nothing and holds no patient data. A POST only computes, so the result is
rendered in the response rather than redirected to.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from scoring.forms import CalculatorForm, choice_label
from scoring.registry import REGISTRY, ScoringSystem, get_system
from scoring.rules.base import ItemScore, ScoreResult


@dataclass(frozen=True, slots=True)
class ItemRow:
    """One scored item as a clinician reads it."""

    label: str
    value: str
    points: int | None


def _item_row(system: ScoringSystem, item: ItemScore) -> ItemRow:
    # Most items are inputs and take the input's label; derived items (Bauer's `not_lung`) do not.
    spec = next((spec for spec in system.inputs if spec.name == item.item), None)
    if isinstance(item.value, bool):
        value = "yes" if item.value else "no"
    elif spec is not None and spec.type == "choice" and isinstance(item.value, str):
        value = choice_label(spec, item.value)
    else:
        value = str(item.value)
    label = spec.label if spec is not None else item.item.replace("_", " ").capitalize()
    return ItemRow(label=label, value=value, points=item.points)


@require_GET
def calculator_list(request: HttpRequest) -> HttpResponse:
    return render(request, "scoring/calculators.html", {"systems": REGISTRY.values()})


@require_http_methods(["GET", "POST"])
def calculator_detail(request: HttpRequest, name: str) -> HttpResponse:
    try:
        system = get_system(name)
    except KeyError:
        raise Http404(f'No scoring system named "{name}".') from None
    form = CalculatorForm(system, request.POST if request.method == "POST" else None)
    result: ScoreResult | None = None
    if form.is_bound and form.is_valid():
        result = system.compute(form.inputs)
    context = {
        "system": system,
        "form": form,
        "result": result,
        "items": [_item_row(system, item) for item in result.items] if result else [],
    }
    return render(request, "scoring/calculator.html", context)
