"""Request and response models of the agents API (shared by routes and the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from hygeia.agents.engine import normalise_mode
from hygeia.core.errors import InputError

QUESTION = Field(
    min_length=1,
    max_length=4000,
    examples=["Is there a safety signal for rhabdomyolysis with atorvastatin?"],
)


class AskRequest(BaseModel):
    question: str = QUESTION
    mode: str = Field(
        "automatic",
        description="manual | automatic | autonomous-automatic | autonomous-manual (or 1-4)",
        examples=["automatic"],
    )
    expert: str | None = Field(None, description="needed in manual modes", examples=["regulatory"])
    conversation_id: str | None = Field(None, description="continue a conversation (memory)")

    @field_validator("mode")
    @classmethod
    def _mode(cls, value: str) -> str:
        try:
            return normalise_mode(value)
        except InputError as exc:
            raise ValueError(exc.detail) from exc


class PanelRequest(BaseModel):
    question: str = QUESTION
    experts: list[str] | None = Field(
        None, description="default: all experts", examples=[["regulatory", "medical"]]
    )
    mode: Literal["manual", "autonomous-manual"] = "manual"
    conversation_id: str | None = None


class FeedbackRequest(BaseModel):
    rating: Literal[-1, 1] = Field(description="+1 helpful, -1 not helpful")
    comment: str | None = Field(None, max_length=2000)


class ExpertRef(BaseModel):
    name: str
    title: str


class SourceOut(BaseModel):
    number: int
    kind: str = Field(description="passage (retrieved document) or tool_result")
    tool: str
    step: int
    ref: str = Field(description="document id, or the id of the stored tool call")
    title: str
    text: str
    url: str | None = None
    score: float | None = None
    full_text: str = Field("", description="the whole passage; `text` is its preview")
    passage_type: str | None = Field(
        None, description="the retrieval tool's document type (literature, approval, clinical_trial, …)"
    )


class ToolCallOut(BaseModel):
    step: int
    tool: str
    status: str = Field(description="ok | error | timeout | missing | forbidden | invalid_input")
    inputs: dict[str, Any]
    output: dict[str, Any] | None = None
    error: str | None = None
    duration_ms: float
    reason: str | None = None
    record_id: str | None = None


class ConfidenceOut(BaseModel):
    value: float
    label: str = Field(description="high | medium | low | 'low — not answered' | 'none — nothing retrieved'")
    method: str
    components: dict[str, float]
    evidence_answers_question: float | None = Field(
        None, description="calibrated P(the selected sentences come from a source that answers the question)"
    )
    tool_answered: bool | None = None


class VerdictOut(BaseModel):
    label: Literal["yes", "no", "maybe"]
    probabilities: dict[str, float] | None = Field(
        None, description="the study reading's class probabilities; none for a tool's stated rule"
    )
    source: int = Field(description="citation number of the study or tool result the verdict reads")
    model: str = Field(description="agents-verdict <version> (a study's text) or rule: <tool>")
    measured: str = Field(description="the verdict model's measured accuracy on PubMedQA, or 'a stated rule'")
    basis: str | None = Field(None, description="a tool verdict's reason, in the tool's numbers")
    stated: bool = Field(
        True,
        description="false: computed from the best study, but not stated, as the passages do not address "
        "the question",
    )


class UsageOut(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    estimated: bool
    generation_seconds: float
    tokens_per_second: float | None


class AnswerOut(BaseModel):
    message_id: str
    conversation_id: str
    question: str
    expert: ExpertRef
    mode: str
    routing: dict[str, Any] | None = Field(None, description="automatic modes: chosen expert and why")
    answer: str
    generation: Literal["llm", "extractive"]
    model: str = Field(description="backend:model, or 'no language model'")
    label: str
    sources: list[SourceOut]
    cited: list[int]
    tool_calls: list[ToolCallOut]
    planner: str
    verdict: VerdictOut | None = Field(
        None,
        description="yes/no questions: the first stated verdict (a lookup tool's rule before a study's "
        "reading) and its source",
    )
    confidence: ConfidenceOut
    usage: UsageOut
    notes: list[str]
    latency_ms: float


class Disagreement(BaseModel):
    kind: str = Field(description="evidence | tool | verdict | confidence | wording")
    experts: list[str]
    detail: str


class ConsensusOut(BaseModel):
    message_id: str
    text: str
    generation: Literal["llm", "extractive"]
    model: str
    agreement: float
    shared_sources: list[str]
    disagreements: list[Disagreement]
    confidence: dict[str, Any]
    usage: dict[str, int]
    method: str


class PanelOut(BaseModel):
    conversation_id: str
    question: str
    mode: str
    answers: list[AnswerOut]
    consensus: ConsensusOut
    latency_ms: float


class ExpertOut(BaseModel):
    name: str
    title: str
    description: str
    tool_patterns: list[str]
    available_tools: list[str]
    example_questions: list[str]


class ConversationOut(BaseModel):
    id: str
    title: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    messages: int


class DeletedOut(BaseModel):
    """What a deletion removed, by kind (the audit row records the same counts)."""

    conversations: int
    messages: int
    tool_calls: int
    feedback: int


class FeedbackOut(BaseModel):
    id: str
    message_id: str
    rating: int
    comment: str | None
    created_at: datetime


class MessageOut(BaseModel):
    id: str
    role: str
    content: str
    created_at: datetime
    expert: str | None
    mode: str | None
    routing: dict[str, Any] | None
    sources: list[dict[str, Any]]
    confidence: dict[str, Any] | None
    generation: str | None
    model: str | None
    usage: dict[str, int]
    latency_ms: float | None
    detail: dict[str, Any]
    tool_calls: list[dict[str, Any]]
    feedback: list[dict[str, Any]]


class ConversationDetail(BaseModel):
    id: str
    title: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    messages: list[MessageOut]
