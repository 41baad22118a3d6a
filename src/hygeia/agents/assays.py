"""Questions about the target of a Tox21 assay ("Does tamoxifen activate the estrogen receptor?", "Is
<SMILES> an aromatase inhibitor?"), answered from what Tox21 measured, else from the model.

A toxicologist asking about a pathway wants the assay that reads it. The question's words name the
Tox21 endpoints (both oestrogen-receptor assays for "estrogen receptor"), the compound (a DrugBank
name or a SMILES) is scored through `toxicity.predict` (core.tools), and the verdict is a stated rule
on that result, never a fitted reading of the text:
- each named assay gets a call: what Tox21 measured when the compound is one of the model's training
  compounds and was tested there; otherwise the model's prediction, "active" at the card's threshold
  (calibrated probability >= 0.5), "inactive" when its Mondrian conformal set excludes active (a
  stated error rate for actives), else undecided. A {active} conformal set alone is no "yes": on
  scaffold CV three in four such sets belong to compounds measured inactive;
- "yes" when any named assay is active, "no" when all are inactive, no verdict otherwise.
The nuclear-receptor assays read agonism (aromatase: inhibition), so a question about antagonism or
blocking gets the numbers without a verdict, and "is X an endocrine disruptor?" (the androgen,
oestrogen and aromatase assays) can be answered "yes" but never "no". Tox21 outcomes are in-vitro
reporter results at the concentrations tested, not effects in patients; the fact says so. How often
each call was right on scaffold CV: `python -m benchmarks.agents.assay_verdicts`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hygeia.agents.drugs import Drug, domain_phrase, lookup, predict, record_of_refused, structure
from hygeia.core.errors import InputError
from hygeia.core.tools import register_tool

READS = {  # what each assay reads out (Tox21 Data Challenge 2014 assay descriptions)
    "NR-AR": "androgen receptor agonism, full-length receptor",
    "NR-AR-LBD": "androgen receptor agonism, ligand-binding domain",
    "NR-AhR": "aryl hydrocarbon receptor activation",
    "NR-Aromatase": "aromatase inhibition",
    "NR-ER": "oestrogen receptor alpha agonism, full-length receptor",
    "NR-ER-LBD": "oestrogen receptor alpha agonism, ligand-binding domain",
    "NR-PPAR-gamma": "PPAR-gamma agonism",
    "SR-ARE": "antioxidant response element (Nrf2) activation",
    "SR-ATAD5": "ATAD5 induction, a genotoxic-stress reporter",
    "SR-HSE": "heat-shock response activation",
    "SR-MMP": "mitochondrial membrane potential disruption",
    "SR-p53": "p53 activation, a DNA-damage reporter",
}
# "endocrine disruptor": the panel of the US EPA's Endocrine Disruptor Screening Program that Tox21 has
# (oestrogen and androgen receptor, aromatase); it lacks antagonist modes, thyroid and steroid synthesis
ENDOCRINE_PANEL = ("NR-AR", "NR-AR-LBD", "NR-ER", "NR-ER-LBD", "NR-Aromatase")
ENDOCRINE = re.compile(r"\bendocrine", re.IGNORECASE)
ENDOCRINE_GAP = (
    " Tox21's endocrine assays read receptor agonism and aromatase inhibition only, not antagonism, thyroid "
    "or steroid synthesis, so inactive results do not show that a compound is no endocrine disruptor."
)
AGONIST_MODE = ("NR-AR", "NR-AR-LBD", "NR-AhR", "NR-ER", "NR-ER-LBD", "NR-PPAR-gamma")
WORDS = (  # case-insensitive words for a target -> the assays that read it
    (r"\bo?estrogen\w*|\boestradiol receptor", ("NR-ER", "NR-ER-LBD")),
    (r"\bandrogen\w*", ("NR-AR", "NR-AR-LBD")),
    (r"\baryl[- ]hydrocarbon|\bdioxin[- ]like", ("NR-AhR",)),
    (r"\baromatase|\bcyp19", ("NR-Aromatase",)),
    (r"\bppar[- ]?(?:gamma|\u03b3)|\bperoxisome proliferator", ("NR-PPAR-gamma",)),
    (r"\bantioxidant[- ]response|\bnrf2\b|\boxidative stress", ("SR-ARE",)),
    (r"\batad5\b", ("SR-ATAD5",)),
    (r"\bgenotoxic\w*|\bdna damag\w*", ("SR-ATAD5", "SR-p53")),
    (r"\bheat[- ]shock", ("SR-HSE",)),
    (r"\bmitochondri\w*", ("SR-MMP",)),
    (r"\bp53\b", ("SR-p53",)),
    (r"\bendocrine", ENDOCRINE_PANEL),
)
ACRONYMS = (  # case-sensitive: "ARE" and "ER" are also English words
    (r"\bER(?:\u03b1|[- ]?alpha\b)|\bER\b(?= (?:agonis|activ|bind))", ("NR-ER", "NR-ER-LBD")),
    (r"\bAhR\b", ("NR-AhR",)),
    (r"\bARE\b(?= (?:pathway|reporter|activ|assay))", ("SR-ARE",)),
    (r"\bHSE\b|\bHSF1?\b", ("SR-HSE",)),
)
ENDPOINT_NAMES = re.compile(r"\b(?:NR|SR)-[A-Za-z0-9-]+", re.IGNORECASE)
EXPLICIT_ASSAY = re.compile(ENDPOINT_NAMES.pattern + r"|\btox21\b|\bassays?\b", re.IGNORECASE)
DEFINITION = re.compile(r"\b(?:what|explain|describe|define)\b", re.IGNORECASE)
ANTAGONISM = re.compile(
    r"\bantagoni\w*|\bblock\w*|\binhibit\w*|\banti-?(?:androgen|estrogen|oestrogen)\w*", re.I
)
ABOUT = (
    "a cell-based quantitative high-throughput reporter assay of {reads}; 'active' means a "
    "concentration-dependent response at the concentrations tested, an in-vitro pathway signal, not an "
    "effect in patients"
)
PREDICTED_RULE = (
    "Predicted calls: active at the model card's threshold (calibrated probability >= 0.5), inactive "
    "when the conformal set excludes active (about {error} of tested actives get that set on scaffold "
    "CV), otherwise undecided. "
)
IN_VITRO = (
    "Tox21 outcomes are in-vitro reporter results at the concentrations tested, not effects in patients"
)


def named_assays(question: str) -> list[str]:
    """The Tox21 endpoints whose targets the question names, in the contract's order."""
    named = {e for pattern, endpoints in WORDS if re.search(pattern, question, re.I) for e in endpoints}
    named |= {e for pattern, endpoints in ACRONYMS if re.search(pattern, question) for e in endpoints}
    by_lower = {e.lower(): e for e in READS}
    named |= {by_lower[m.lower()] for m in ENDPOINT_NAMES.findall(question) if m.lower() in by_lower}
    return [e for e in READS if e in named]


def wants_assay_lookup(question: str, context: dict[str, Any]) -> bool:
    """A target and a compound ("does tamoxifen activate the estrogen receptor?"), or an assay asked
    about by name ("what does SR-MMP measure?"); not every mention of oestrogen in a clinical question."""
    if not named_assays(question):
        return False
    return "smiles" in context or "drug" in context or bool(EXPLICIT_ASSAY.search(question))


@dataclass(frozen=True)
class AssayOutcome:
    endpoint: str
    call: str  # active | inactive | undecided
    how: str  # the measurement, or the prediction's numbers
    measured: bool

    @property
    def line(self) -> str:
        return f"{self.endpoint} ({READS[self.endpoint]}): {self.how}"


def assay_outcomes(result: dict[str, Any], endpoints: list[str]) -> tuple[list[AssayOutcome], list[str]]:
    """Each named assay's call, measured where Tox21 tested the compound itself, else predicted; and
    the compound's Tox21 IDs when it is a training compound."""
    read_across = result.get("read_across") or {}
    itself = (read_across.get("neighbours") or [{}])[0] if read_across.get("in_training_set") else {}
    measured = itself.get("measured") or {}
    form = (
        " (same constitution, stereo left open)"
        if read_across.get("tested_as") == "stereo-unspecified"
        else ""
    )
    active = set((result.get("overall") or {}).get("active_assays") or [])
    sets, probabilities = result.get("prediction_sets") or {}, result.get("probabilities") or {}
    outcomes = []
    for endpoint in endpoints:
        if measured.get(endpoint) in ("active", "inactive"):
            outcomes.append(
                AssayOutcome(endpoint, measured[endpoint], f"measured {measured[endpoint]}{form}", True)
            )
            continue
        conformal = sets.get(endpoint)
        call = "active" if endpoint in active else "inactive" if conformal == "inactive" else "undecided"
        shown = f", conformal set {conformal}" if conformal else ""
        how = f"not measured; predicted {call}, p {probabilities.get(endpoint, float('nan')):.2f}{shown}"
        outcomes.append(AssayOutcome(endpoint, call, how, False))
    return outcomes, list(itself.get("tox21_ids") or [])


def record_outcomes(record: dict[str, Any], endpoints: list[str]) -> list[AssayOutcome]:
    """The named assays' calls from Tox21's own record of a compound the model does not score."""
    measured = record["measured"]
    return [
        AssayOutcome(e, measured[e], f"measured {measured[e]}", True) if measured[e] != "not tested"
        else AssayOutcome(e, "undecided", "not tested; the model does not score this compound", False)
        for e in endpoints
    ]  # fmt: skip


def _agonist_only(endpoints: list[str]) -> bool:
    """Every assay reads agonism: none answers whether a compound blocks the receptor."""
    return all(e in AGONIST_MODE for e in endpoints)


def assay_verdict(
    compound: str,
    outcomes: list[AssayOutcome],
    result: dict[str, Any],
    antagonism: bool,
    endocrine: bool = False,
) -> dict[str, str] | None:
    """The stated rule (module docstring) on the assays' calls; None when it gives no verdict. An
    endocrine-disruption question gets no "no": the panel misses modes of action (ENDOCRINE_GAP)."""
    if not outcomes or (antagonism and _agonist_only([o.endpoint for o in outcomes])):
        return None
    calls = [o.call for o in outcomes]
    if "active" in calls:
        label, basis = "yes", [o for o in outcomes if o.call == "active"]
    elif all(call == "inactive" for call in calls) and not endocrine:
        label, basis = "no", outcomes
    else:
        return None
    rules = []
    if not all(o.measured for o in basis):
        rules.append(PREDICTED_RULE.format(error=result.get("conformal_significance")))
    lines = "; ".join(o.line for o in basis)
    return {"label": label, "basis": f"{compound}: {lines}. {' '.join(rules)}{IN_VITRO}"}


def assay_fact(compound: str, outcomes: list[AssayOutcome], ids: list[str], result: dict[str, Any]) -> str:
    """One line: each named assay's measured or predicted call, and where the compound stands."""
    if result.get("error") or not result.get("probabilities"):
        refused = f"toxicity model: no prediction for {compound} ({result.get('error') or 'no result'})"
        if not outcomes:
            return refused
        lines = "; ".join(o.line for o in outcomes)
        return f"{compound} (Tox21 {', '.join(ids)}, Tox21's own record): {lines}. {refused}. {IN_VITRO}."
    phrase = domain_phrase(result)
    where = "" if phrase is None else f"; {phrase}"
    read_across = result.get("read_across") or {}
    if read_across.get("status") in ("loading", "unavailable"):
        where += f"; whether Tox21 tested it could not be checked ({read_across.get('reason')})"
    elif not ids and read_across.get("neighbours"):
        where += f"; {_nearest_tested(read_across['neighbours'][0], [o.endpoint for o in outcomes])}"
    measured_in = f" (Tox21 {', '.join(ids)})" if ids else ""
    return f"{compound}{measured_in}: {'; '.join(o.line for o in outcomes)}{where}. {IN_VITRO}."


def _nearest_tested(neighbour: dict[str, Any], endpoints: list[str]) -> str:
    """Read-across for a compound Tox21 did not test: its nearest tested compound's outcomes, labelled
    as another compound's (a stereoisomer or salt can share every ECFP4 bit)."""
    outcomes = ", ".join(f"{e} {neighbour['measured'].get(e, 'not tested')}" for e in endpoints)
    return (
        f"nearest tested compound {', '.join(neighbour['tox21_ids'])} (ECFP4 Tanimoto "
        f"{neighbour['similarity']:.2f}, another compound): {outcomes}"
    )


def _compound(drug: str | None, smiles: str | None) -> tuple[str, Drug | None, str]:
    """(name, DrugBank entry, SMILES to score). A structure the question gives is scored as given; a
    chain step may pass a drug's own DrugBank structure on as smiles, and the drug keeps its name."""
    if drug and (not smiles or lookup(drug)):
        entry, drug_smiles = structure(drug)  # an unknown name without a structure: "no structure known"
        if smiles in (None, drug_smiles):
            return entry.name, entry, drug_smiles
    return str(smiles), None, str(smiles)


def tox21_assay(query: str, drug: str | None = None, smiles: str | None = None) -> dict[str, Any]:
    """Agent tool: a compound (DrugBank name or SMILES) in the Tox21 assays the question names."""
    endpoints = named_assays(query)
    if not endpoints:
        raise InputError("the question names no Tox21 assay target (e.g. estrogen receptor, aromatase, p53)")
    if not (drug or smiles):  # "What does SR-MMP measure?": what the assays read
        fact = "; ".join(f"{e} (Tox21): {ABOUT.format(reads=READS[e])}" for e in endpoints)
        return {"assays": endpoints, "fact": fact, "answers": bool(DEFINITION.search(query))}
    compound, entry, structure_smiles = _compound(drug, smiles)
    prediction, result = predict(structure_smiles)
    antagonism = bool(ANTAGONISM.search(query))
    outcomes, ids = assay_outcomes(result, endpoints) if result.get("probabilities") else ([], [])
    record = record_of_refused(entry, result)
    if record is not None:  # outside the model's chemistry, but Tox21 tested it as such
        outcomes, ids = record_outcomes(record, endpoints), list(record["tox21_ids"])
    endocrine = bool(ENDOCRINE.search(query))
    verdict = assay_verdict(compound, outcomes, result, antagonism, endocrine)
    fact = assay_fact(compound, outcomes, ids, result)
    if antagonism and _agonist_only(endpoints):
        fact += " These assays read agonism, so they do not answer a question about blocking the receptor."
    if endocrine and verdict is None:
        fact += ENDOCRINE_GAP
    stated = {"verdict": verdict} if verdict else {}
    drugbank_id = entry.drugbank_id if entry else None
    return {"compound": compound, "drugbank_id": drugbank_id, "smiles": structure_smiles, "assays": endpoints,
            "fact": fact, "model": prediction.get("model"), "prediction": result,
            "answers": verdict is not None, **stated}  # fmt: skip


def register() -> None:
    register_tool(
        "agents.tox21_assay",
        "Tox21 assay outcome of a compound (drug name or SMILES) for the target the question names: "
        "estrogen or androgen receptor, aromatase, aryl hydrocarbon receptor, PPAR-gamma, antioxidant "
        "response, genotoxic stress, heat shock, mitochondrial membrane potential, p53",
        tox21_assay,
        input_schema={
            "type": "object",
            "properties": {
                "query": {"type": "string", "maxLength": 2000},
                "drug": {"type": "string", "maxLength": 200},
                "smiles": {"type": "string", "maxLength": 1000},
            },
            "required": ["query"],
            "additionalProperties": False,
        },
    )
