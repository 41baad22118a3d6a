"""Tool chains: fixed retrieval for the guided modes, planned chains for the autonomous ones.

The rule planner is a greedy loop: at each step it runs the most relevant permitted tool whose
required inputs can be bound from the question or from earlier steps' outputs, so one tool's output
(a formula, a normalised drug name) can unlock the next. With a capable language model it first asks
the model for a plan and keeps only the steps that name permitted tools. Either way the chain stops
at `max_steps`, and every tool it did not run is listed with the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer

from hygeia.agents.entities import bind_inputs, question_context
from hygeia.agents.experts import Expert
from hygeia.agents.toolbox import ToolOutcome, run_tool
from hygeia.core.llm import ChatModel, LLMError
from hygeia.core.tools import Caller, Tool
from hygeia.settings import get_agent_settings

MIN_RELEVANCE = 0.05
CARRIED_OVER = ("drug", "smiles")  # what a follow-up's "it" refers to
PER_DRUG = ("agents.side_effects", "agents.toxicity_by_name", "agents.signal_lookup")  # per drug compared
LESION_CUE = re.compile(
    r"\b(?:dermato\w*|lesions?|moles?|skin|melanoma\w*|n(?:a)?ev(?:us|i)|triage)\b", re.IGNORECASE
)
REPURPOSING_CUE = re.compile(
    r"\brepurpos\w*|\breposition\w*|\bnew (?:uses?|indications?)\b|\bcandidate (?:drugs?|indications?)\b"
    r"|\b(?:could|might|may)(?: \w+){0,2} (?:treat|be used (?:for|to treat))\b",
    re.IGNORECASE,
)
PLAN_PROMPT = (
    "Choose the tools to call, in order, to answer the question. Reply with JSON only: "
    '{"steps": [{"tool": "<name>", "args": {...}}]}. Use only these tools:\n'
)


@dataclass
class ChainResult:
    outcomes: list[ToolOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    planner: str = "fixed"
    prompt_tokens: int = 0
    completion_tokens: int = 0


Chain = Generator[ToolOutcome, None, ChainResult]  # yields each outcome as it lands, returns all


def retrieval_chain(expert: Expert, context: dict[str, Any], caller: Caller | None = None) -> Chain:
    """Modes 1-2: the configured retrieval tools, in order, with the question as query; then each
    question-bound lookup whose cue the question carries and whose inputs it names (a drug for
    toxicity by name), so a plain question reaches the capability that computes its answer."""
    settings = get_agent_settings()
    result = ChainResult(planner="fixed", notes=context_notes(context))
    steps = list(settings.retrieval_tools[: settings.max_steps])
    lookups, inherited = _question_lookups(expert, context)
    steps += [name for name in lookups if len(steps) < settings.max_steps]
    for name in steps:
        reason = (
            "grounding retrieval" if name in settings.retrieval_tools else "the question names its inputs"
        )
        asked = context if name in settings.retrieval_tools or inherited else _asked(context)
        for bound in _per_drug(name, asked):
            outcome = _run_bound(len(result.outcomes) + 1, name, expert, bound, reason, caller)
            result.outcomes.append(outcome)
            yield outcome
    if _labels_silent(result.outcomes) and "agents.signal_lookup" not in steps:
        yield from _reports_instead(expert, _asked(context), result, caller)
    return result


def context_notes(context: dict[str, Any]) -> list[str]:
    """What the bindings should tell the user: a drug read from a brand name or a misspelling ("read
    'lipitor' as atorvastatin (its US brand name)")."""
    return [context["read_as"]] if context.get("read_as") else []


def _labels_silent(outcomes: list[ToolOutcome]) -> bool:
    """The question asked about an effect of a drug the side-effect labels have no entry for."""
    return any(
        o.tool == "agents.side_effects" and o.ok and o.output and o.output.get("asks_about_effect")
        and o.output.get("n_side_effects") == 0
        for o in outcomes
    )  # fmt: skip


def _reports_instead(
    expert: Expert, context: dict[str, Any], result: ChainResult, caller: Caller | None
) -> Iterator[ToolOutcome]:
    """Where the labels are silent ("Does atorvastatin cause rhabdomyolysis?": SIDER has no atorvastatin),
    the pair's spontaneous-report statistics, as a fact without a verdict: a disproportionality alert is
    an association in reports, not an answer to whether the drug causes the effect. A drug no report
    table covers leaves a note, not a failed step."""
    if not expert.may_call("agents.signal_lookup", get_agent_settings().patterns_for(expert.name)):
        return
    reason = "the side-effect labels have no entry for the drug: spontaneous reports instead"
    outcome = _run_bound(len(result.outcomes) + 1, "agents.signal_lookup", expert, context, reason, caller)
    found = outcome.output or {}
    if not outcome.ok or not found.get("answered_from"):
        why = found.get("fact") or outcome.error
        result.notes.append(f"agents.signal_lookup, tried because the labels have no entry: {why}")
        return
    found.pop("verdict", None)
    result.outcomes.append(outcome)
    yield outcome


def _per_drug(name: str, context: dict[str, Any]) -> list[dict[str, Any]]:
    """A comparison ("Is ibuprofen or naproxen more hepatotoxic?") runs a drug's lookup once per drug it
    names: one step of the chain, however many drugs."""
    drugs = context.get("drugs") or []
    if name not in PER_DRUG or len(drugs) < 2:
        return [context]
    return [{**context, "drug": drug} for drug in drugs]


def _asked(context: dict[str, Any]) -> dict[str, Any]:
    """A lookup the question cues reads the question itself, not a follow-up's combined retrieval
    query: "does it cause rash?" after a question on tamoxifen asks about rash, not the oestrogen
    receptor again."""
    return {**context, "query": context.get("question") or context["query"]}


Cue = Callable[[str, dict[str, Any]], bool]  # (question, bindings) -> run this lookup


def _when(pattern: re.Pattern[str], *needs: str) -> Cue:
    """The question carries the cue and names one of the inputs the lookup needs."""
    return lambda question, context: bool(pattern.search(question)) and any(n in context for n in needs)


def _question_lookups(expert: Expert, context: dict[str, Any]) -> tuple[list[str], bool]:
    """The lookups the question cues; a follow-up that cues none ("and ketoconazole?") takes those
    its combined retrieval query cues, and they read that query (True)."""
    own = _cued(expert, context, str(context.get("question") or context["query"]))
    if own or context.get("question", context["query"]) == context["query"]:
        return own, False
    return _cued(expert, context, str(context["query"])), True


def _cued(expert: Expert, context: dict[str, Any], question: str) -> list[str]:
    from hygeia.agents.assays import wants_assay_lookup
    from hygeia.agents.drugs import TOXICITY_CUE
    from hygeia.agents.side_effects import EFFECT_CUE
    from hygeia.agents.signal_lookup import SIGNAL_CUE

    cues: dict[str, Cue] = {
        "agents.tox21_assay": wants_assay_lookup,  # an assay's target and a compound, or an assay by name
        "toxicity.predict": _when(TOXICITY_CUE, "smiles"),  # a structure the question gives
        "agents.toxicity_by_name": _when(TOXICITY_CUE, "drug"),
        "agents.side_effects": _when(EFFECT_CUE, "drug"),
        "agents.signal_lookup": _when(SIGNAL_CUE, "query"),
        "evidence.candidates": _when(REPURPOSING_CUE, "query"),
        "toxicity.batch_prediction": _when(TOXICITY_CUE, "job_id"),  # the caller's own job, by its id
        "dermatology.prediction": _when(LESION_CUE, "prediction_id"),  # the caller's own triage, by id
    }
    allowed = get_agent_settings().patterns_for(expert.name)
    chosen = [name for name, cue in cues.items() if expert.may_call(name, allowed) and cue(question, context)]
    if "agents.tox21_assay" in chosen:  # it scores the same compound: one toxicity call, not two
        chosen = [name for name in chosen if name not in ("toxicity.predict", "agents.toxicity_by_name")]
    if "toxicity.predict" in chosen:  # the structure the question gives, not DrugBank's for its name
        chosen = [name for name in chosen if name != "agents.toxicity_by_name"]
    return chosen


def planned_chain(
    question: str,
    expert: Expert,
    context: dict[str, Any],
    model: ChatModel | None,
    use_llm: bool,
    caller: Caller | None = None,
) -> Chain:
    """Modes 3-4: the expert plans its own chain over the tools it may call."""
    tools = expert.allowed_tools(get_agent_settings().patterns_for(expert.name))
    plan: list[tuple[str, dict[str, Any]]] | None = None
    usage = (0, 0, "")
    if use_llm and model is not None and tools:
        plan, usage = _llm_plan(question, expert, model, tools)
    if plan:
        result = yield from _planned_steps(plan, expert, context, tools, caller)
        result.planner, (result.prompt_tokens, result.completion_tokens) = f"llm:{usage[2]}", usage[:2]
        return result
    result = yield from _rule_chain(question, expert, context, tools, caller)
    if use_llm and model is not None and tools:
        result.notes.insert(0, "the language model gave no usable plan; the rule planner chose the tools")
        result.prompt_tokens, result.completion_tokens = usage[:2]
    return result


def initial_context(question: str, retrieval_query: str, earlier: Sequence[str] = ()) -> dict[str, Any]:
    """The bindings of a question. A follow-up ("does it activate the androgen receptor?") is searched
    with the previous question, and the compound of the latest earlier question (newest first) that
    named one carries over to its lookups."""
    context = question_context(question)
    if retrieval_query != question:
        for text in earlier or (retrieval_query,):
            found = {k: v for k, v in question_context(text).items() if k in CARRIED_OVER}
            if found:
                context.update({k: v for k, v in found.items() if k not in context})
                break
    context["question"], context["query"] = question, retrieval_query
    return context


def _run_bound(
    step: int, name: str, expert: Expert, context: dict[str, Any], reason: str, caller: Caller | None
) -> ToolOutcome:
    from hygeia.core.tools import get_tool

    try:
        schema = get_tool(name).input_schema
    except KeyError:
        schema = {"properties": {"query": {"type": "string"}}}
    inputs, _missing = bind_inputs(schema, context, get_agent_settings().max_sources)
    return run_tool(step, name, inputs, expert, reason, caller)


def _rule_chain(
    question: str, expert: Expert, context: dict[str, Any], tools: list[Tool], caller: Caller | None
) -> Chain:
    settings = get_agent_settings()
    result = ChainResult(planner="rules", notes=context_notes(context))
    relevance = _relevance(question, tools, context)
    grounding = set(settings.retrieval_tools)  # always tried first: passages ground the answer
    candidates = [t for t in tools if t.name in grounding or relevance[t.name] >= MIN_RELEVANCE]
    candidates.sort(key=lambda t: (t.name not in settings.retrieval_tools, -relevance[t.name]))
    done: set[str] = set()
    while len(done) < settings.max_steps:
        step = _next_runnable(candidates, done, context)
        if step is None:
            break
        tool, inputs = step
        reason = f"relevance {relevance[tool.name]:.2f}; inputs bound: {sorted(inputs)}"
        done.add(tool.name)
        for bound in _per_drug(tool.name, context):
            if bound is not context:
                inputs = bind_inputs(tool.input_schema, bound, settings.max_sources)[0]
            outcome = run_tool(len(result.outcomes) + 1, tool.name, inputs, expert, reason, caller)
            result.outcomes.append(outcome)
            if outcome.ok and outcome.output:
                _absorb(context, outcome.output)
            yield outcome
    result.notes.extend(_not_run_notes(candidates, done, context, len(done)))
    skipped = sorted(t.name for t in tools if t not in candidates)
    if skipped:
        result.notes.append(f"not relevant to the question, not called: {', '.join(skipped)}")
    return result


def _next_runnable(
    candidates: list[Tool], done: set[str], context: dict[str, Any]
) -> tuple[Tool, dict[str, Any]] | None:
    limit = get_agent_settings().max_sources
    for tool in candidates:
        if tool.name in done:
            continue
        inputs, missing = bind_inputs(tool.input_schema, context, limit)
        if not missing:
            return tool, inputs
    return None


def _not_run_notes(candidates: list[Tool], done: set[str], context: dict[str, Any], steps: int) -> list[str]:
    notes = []
    settings = get_agent_settings()
    for tool in candidates:
        if tool.name in done:
            continue
        _, missing = bind_inputs(tool.input_schema, context, settings.max_sources)
        if missing:
            notes.append(
                f"{tool.name} not called: needs {missing}, which neither the question nor an "
                f"earlier step provided"
            )
        elif steps >= settings.max_steps:
            notes.append(f"{tool.name} not called: the step limit ({settings.max_steps}) was reached")
    return notes


def _absorb(context: dict[str, Any], output: dict[str, Any]) -> None:
    """Scalar outputs become bindings for later steps (the chain's only data path)."""
    for key, value in output.items():
        if key != "query" and isinstance(value, str | int | float | bool) and value != "":
            context[key] = value


def _tool_text(tool: Tool) -> str:
    words = re.sub(r"[._]", " ", tool.name)
    params = " ".join((tool.input_schema.get("properties") or {}).keys()).replace("_", " ")
    return f"{words} {tool.description} {params}"


def _relevance(question: str, tools: list[Tool], context: dict[str, Any]) -> dict[str, float]:
    """Cosine of question and tool text, plus credit for required inputs the question names."""
    if not tools:
        return {}
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform([*(_tool_text(t) for t in tools), question]).toarray()
    except ValueError:  # nothing but stop words anywhere
        return dict.fromkeys((t.name for t in tools), 0.0)
    query = matrix[-1]
    scores = {}
    for row, tool in zip(matrix[:-1], tools, strict=True):
        required = [r for r in tool.input_schema.get("required", []) if r != "query"]
        named = sum(1 for r in required if r in context) / len(required) if required else 0.0
        scores[tool.name] = float(row @ query) + 0.5 * named
    return scores


def _llm_plan(
    question: str, expert: Expert, model: ChatModel, tools: list[Tool]
) -> tuple[list[tuple[str, dict[str, Any]]], tuple[int, int, str]]:
    catalogue = json.dumps(
        [{"tool": t.name, "description": t.description, "input_schema": t.input_schema} for t in tools]
    )
    messages = [
        {"role": "system", "content": expert.system_prompt},
        {"role": "user", "content": f"{PLAN_PROMPT}{catalogue}\n\nQuestion: {question}"},
    ]
    try:
        completion = model.complete(messages, max_tokens=256, temperature=0.0)
    except LLMError:
        return [], (0, 0, "")
    usage = (completion.prompt_tokens, completion.completion_tokens, completion.model)
    return _parse_plan(completion.text, {t.name for t in tools}), usage


def _planned_steps(
    plan: list[tuple[str, dict[str, Any]]],
    expert: Expert,
    context: dict[str, Any],
    tools: list[Tool],
    caller: Caller | None,
) -> Chain:
    settings = get_agent_settings()
    result = ChainResult(notes=context_notes(context))
    by_name = {t.name: t for t in tools}
    for name, args in plan[: settings.max_steps]:
        bound, _ = bind_inputs(by_name[name].input_schema, context, settings.max_sources)
        inputs = {**bound, **{k: v for k, v in args.items() if k in _declared(by_name[name], args)}}
        planned = "planned by the language model"
        outcome = run_tool(len(result.outcomes) + 1, name, inputs, expert, planned, caller)
        result.outcomes.append(outcome)
        if outcome.ok and outcome.output:
            _absorb(context, outcome.output)
        yield outcome
    if len(plan) > settings.max_steps:
        result.notes.append(f"the plan had {len(plan)} steps; stopped at the limit of {settings.max_steps}")
    return result


def _declared(tool: Tool, args: dict[str, Any]) -> set[str]:
    properties = tool.input_schema.get("properties")
    return set(properties) if properties else set(args)


def _parse_plan(text: str, permitted: set[str]) -> list[tuple[str, dict[str, Any]]]:
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if not match:
        return []
    try:
        plan = json.loads(match.group(0))
    except json.JSONDecodeError:
        return []
    steps = plan.get("steps") if isinstance(plan, dict) else None
    if not isinstance(steps, list):
        return []
    parsed = []
    for step in steps:
        if isinstance(step, dict) and step.get("tool") in permitted:
            args = step.get("args")
            parsed.append((str(step["tool"]), dict(args) if isinstance(args, dict) else {}))
    return parsed
