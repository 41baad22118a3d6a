"""The three expert assistants: who they are, what they may call, and what they are asked about.

Tool permissions are name patterns over `hygeia.core.tools`, not imports, so an expert gains a new
domain's tools the moment that domain registers them, and never gains a tool outside its remit.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from hygeia.core.errors import InputError
from hygeia.core.tools import Tool, list_tools

SAFETY_NOTE = (
    "You support research and decision-making; you do not diagnose or prescribe. "
    "Use only the numbered sources given to you, cite them as [n], and say plainly when they do not "
    "answer the question. Report failed tools as failures; never invent results."
)


@dataclass(frozen=True)
class Expert:
    name: str
    title: str
    description: str
    system_prompt: str
    tool_patterns: tuple[str, ...]
    example_questions: tuple[str, ...]

    def may_call(self, tool_name: str, extra_patterns: tuple[str, ...] = ()) -> bool:
        return any(fnmatchcase(tool_name, p) for p in (*self.tool_patterns, *extra_patterns))

    def allowed_tools(self, extra_patterns: tuple[str, ...] = ()) -> list[Tool]:
        return [tool for tool in list_tools() if self.may_call(tool.name, extra_patterns)]


REGULATORY = Expert(
    name="regulatory",
    title="RegulatoryExpert",
    description=(
        "Drug regulation and pharmacovigilance: adverse event reporting, safety signals and "
        "disproportionality (PRR, ROR, EBGM), FAERS, labelling, approvals, withdrawals, REMS, "
        "ICH E2B, periodic safety reports, FDA and EMA requirements."
    ),
    system_prompt=(
        "You are a regulatory affairs and pharmacovigilance expert. You assess adverse-event signals, "
        "approval and withdrawal history, and reporting obligations, and you distinguish a "
        "statistical signal from an established causal association. " + SAFETY_NOTE
    ),
    tool_patterns=("signals.*", "evidence.*", "agents.signal_lookup", "agents.side_effects"),
    example_questions=(
        "Is there a safety signal for rhabdomyolysis with atorvastatin in FAERS?",
        "Which adverse events are disproportionately reported for this drug?",
        "Was this drug withdrawn from the market, and why?",
        "What are the expedited reporting requirements for a serious unexpected adverse reaction?",
        "Does the PRR or EBGM for this drug-event pair exceed the signalling threshold?",
        "What does the label say about hepatotoxicity warnings?",
    ),
)

MEDICAL = Expert(
    name="medical",
    title="MedicalSpecialist",
    description=(
        "Clinical medicine: diagnosis support, symptoms, disease mechanisms, treatment options, "
        "drug indications, dosing considerations, toxicity of compounds, skin lesions and "
        "dermatology, patient management."
    ),
    system_prompt=(
        "You are a medical specialist. You explain disease mechanisms, treatment options, drug "
        "toxicity and lesion findings to clinicians, stating uncertainty and when a specialist "
        "examination is needed. " + SAFETY_NOTE
    ),
    tool_patterns=(
        "evidence.*",
        "toxicity.*",
        "dermatology.*",
        "agents.toxicity_by_name",
        "agents.tox21_assay",
        "agents.side_effects",
        "agents.signal_lookup",  # a clinician's "is there a signal for X and Y?" routed here still gets one
    ),
    example_questions=(
        "What are the first-line treatment options for type 2 diabetes?",
        "Is this compound likely to be toxic or hepatotoxic? SMILES CCO",
        "What is the mechanism of statin-induced myopathy?",
        "Does this skin lesion look like melanoma or a benign nevus?",
        "Which symptoms distinguish bacterial from viral pneumonia?",
        "What dose adjustments are needed in renal impairment?",
    ),
)

CLINICAL_RESEARCH = Expert(
    name="clinical_research",
    title="ClinicalResearcher",
    description=(
        "Clinical research methodology: trial design, randomised controlled trials, endpoints, "
        "cohorts, meta-analysis, study phases, drug repurposing, evidence quality, statistical "
        "power, published studies and literature."
    ),
    system_prompt=(
        "You are a clinical researcher. You appraise study design, evidence quality and effect "
        "sizes, name the phase and population of each cited study, and separate association from "
        "causation. " + SAFETY_NOTE
    ),
    tool_patterns=(
        "evidence.*",
        "signals.*",
        "toxicity.*",
        "agents.toxicity_by_name",
        "agents.tox21_assay",
        "agents.signal_lookup",
    ),
    example_questions=(
        "What do randomised controlled trials show about this therapy?",
        "Which drugs could be repurposed for this disease, and in which trial phase did they fail?",
        "How should I design a phase II trial with a biomarker endpoint?",
        "Is the evidence from this cohort study strong enough to change practice?",
        "What sample size is needed to detect a 10% reduction in mortality?",
        "Summarise the published studies on this intervention.",
    ),
)

EXPERTS: dict[str, Expert] = {e.name: e for e in (REGULATORY, MEDICAL, CLINICAL_RESEARCH)}
ALIASES: dict[str, str] = {e.title.lower(): e.name for e in EXPERTS.values()}


def get_expert(name: str) -> Expert:
    """Accepts the short name (`regulatory`) or the title (`RegulatoryExpert`), any case."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in EXPERTS:
        raise InputError(f"unknown expert {name!r}; choose from {sorted(EXPERTS)}")
    return EXPERTS[key]
