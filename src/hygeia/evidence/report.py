"""Readable HTML export of a repurposing result (the JSON export is the result itself).

Autoescaped Jinja2: every string in a report comes from public data or a user's query, so none of
it is trusted as markup.
"""

from __future__ import annotations

from jinja2 import Environment, select_autoescape

from hygeia.evidence.schemas import RepurposeResult

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
TEMPLATE = _ENV.from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Hygeia repurposing report: {{ r.entity.name }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;
vertical-align:top}th{background:#f4f4f4}.known{color:#555}.flag{color:#b00020}small{color:#555}
</style></head><body>
<h1>Repurposing report: {{ r.entity.name }} <small>({{ r.entity.id }})</small></h1>
<p><strong>Query:</strong> {{ r.query }} &middot; linked by {{ r.entity.method }} (score {{ r.entity.score }})
&middot; {{ r.direction | replace("_", " ") }}</p>
<p><small>{{ r.disclaimer }}</small></p>
<p><small>Model {{ r.model.name }} {{ r.model.version }} ({{ r.model.sha256 }}) &middot; index built
{{ r.index.built_at }}, {{ r.index.documents }} documents &middot; weights from {{ r.feedback_count }}
feedback vote(s)</small></p>
<table><thead><tr><th>#</th><th>Drug</th><th>Disease (MeSH)</th><th>Confidence</th><th>Evidence</th>
<th>Citations</th></tr></thead><tbody>
{% for c in r.candidates %}
<tr class="{{ 'known' if c.known_indication else '' }}">
<td>{{ loop.index }}</td>
<td>{{ c.drug }}<br><small>{{ c.drug_id }}</small></td>
<td>{{ c.disease }}<br><small>{{ c.disease_id }}
{% if c.mesh_ids %} &middot; MeSH {{ c.mesh_ids | join(", ") }}{% endif %}</small>
{% if c.flagged %}<br><span class="flag">flagged by your team</span>{% endif %}</td>
<td>{{ "%.3f" | format(c.confidence) }}
{% if c.known_indication %}<br><small>known indication</small>{% endif %}</td>
<td>{% for name, value in c.contributions.items() %}
{{ name }} {{ "%+.2f" | format(value) }}<br>{% endfor %}
{% if c.paths %}<small>graph paths:</small><br>{% for p in c.paths %}{{ p.text }}
<small>({{ p.metapath }}, {{ "%+.3f" | format(p.contribution) }})</small><br>{% endfor %}{% endif %}</td>
<td>{% for cite in c.citations[:5] %}<a href="{{ cite.url }}">{{ cite.title }}</a>
<small>({{ cite.source }}, {{ cite.type }})</small><br>{% endfor %}
{% if c.related_literature %}<small>related literature (retrieved, not verified):</small><br>
{% for cite in c.related_literature %}<a href="{{ cite.url }}">{{ cite.title }}</a><br>{% endfor %}
{% endif %}</td>
</tr>
{% endfor %}
</tbody></table>
<h2>Evidence weights</h2>
<p>{% for name, value in r.weights.items() %}
{{ name }} = {{ "%.3f" | format(value) }}{{ ", " if not loop.last }}{% endfor %}</p>
</body></html>
"""
)


def render_html(result: RepurposeResult) -> str:
    return TEMPLATE.render(r=result)
