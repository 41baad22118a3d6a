"""Request/response models for the toxicity API (the CLI writes the same fields to CSV)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from hygeia.core.schemas import ModelReference
from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.molecules import MAX_SMILES_LENGTH

NOT_SAFETY_EVIDENCE = (
    "Predicted Tox21 in-vitro assay activity for research prioritisation; not evidence of safety or "
    "harm in humans and not a substitute for experimental testing."
)
MAX_BATCH_ITEMS = 100_000
EXAMPLE_PROBABILITIES = dict(
    zip(ENDPOINTS, (0.03, 0.02, 0.11, 0.05, 0.31, 0.09, 0.02, 0.24, 0.03, 0.05, 0.28, 0.06), strict=True)
)


class ApplicabilityDomain(BaseModel):
    nearest_similarity: float = Field(
        description="Tanimoto (ECFP4) similarity to the closest training compound", examples=[0.52]
    )
    threshold: float = Field(description="scaffold-CV-derived cut-off (see the model card)", examples=[0.4])
    in_domain: bool = Field(description="false: the model ranked such compounds measurably worse in CV")
    cv_roc_auc: float | None = Field(
        default=None,
        description="scaffold-CV mean ROC-AUC over the 12 assays of the out-of-fold compounds whose "
        "nearest-neighbour similarity fell in this query's band (the model card's band table): how well "
        "the model ranked compounds this far from what it learned; null for bands under 2 % of compounds",
        examples=[0.81],
    )
    cv_roc_auc_overall: float | None = Field(
        default=None, description="the same over all CV compounds, to compare with", examples=[0.857]
    )


class OverallCall(BaseModel):
    """The molecule across all 12 assays: which are called active, how many, which is most likely."""

    active_assays: list[str] = Field(description="assays called active by `rule`", examples=[["NR-ER"]])
    n_active: int = Field(examples=[1])
    highest_risk_assay: str = Field(description="assay with the highest probability", examples=["NR-ER"])
    highest_probability: float = Field(examples=[0.61])
    rule: str = Field(
        description="the documented threshold", examples=["assays with calibrated probability >= 0.5"]
    )


class AtomExplanation(BaseModel):
    endpoint: str = Field(examples=["NR-ER"])
    member: str = Field(description="ensemble member explained (the one with Morgan substructure features)")
    atom_contributions: list[float] = Field(description="log-odds per atom of the standardised molecule")
    substructure_total: float = Field(description="sum of atom contributions (log-odds)")
    absent_substructure_total: float = Field(description="effect of substructures the molecule lacks")
    whole_molecule_total: float = Field(description="descriptor contributions, not attributable to atoms")
    svg: str = Field(description="the molecule with atoms tinted red (raise) / blue (lower)")


Outcome = Literal["active", "inactive", "not tested"]
READ_ACROSS_NOTE = (
    "Measured Tox21 outcomes of the training compounds most similar to the query (ECFP4 Tanimoto); rows "
    "of one compound are merged as in training (majority of tested rows, ties active). When the query "
    "is itself a training compound, its probabilities were fitted on these outcomes: they are not an "
    "independent prediction, and the measurement is the better evidence."
)


class TestedNeighbour(BaseModel):
    tox21_ids: list[str] = Field(
        description="Tox21 IDs of the rows merged into this compound", examples=[["TOX6"]]
    )
    smiles: str = Field(description="its standardised parent SMILES", examples=["CC(=O)Nc1ccc(O)cc1"])
    similarity: float = Field(description="Tanimoto (ECFP4) to the query", examples=[1.0])
    measured: dict[str, Outcome] = Field(description="what Tox21 measured, per endpoint")


class ReadAcross(BaseModel):
    """The tested compounds behind the applicability domain, named (single predictions only)."""

    status: Literal["ready", "loading", "unavailable"] = Field(
        description="loading: the table is being built after a start (about 20 s, once); unavailable: "
        "the server lacks the Tox21 file the model was trained on (see reason)"
    )
    reason: str | None = None
    in_training_set: bool | None = Field(
        None, description="the query's standardised parent is one of the model's training compounds"
    )
    tested_as: Literal["identical", "stereo-unspecified"] | None = Field(
        None,
        description="for a training compound: 'identical' when Tox21's record standardises to this very "
        "structure; 'stereo-unspecified' when the two share their constitution and the query or the "
        "record leaves the stereochemistry open (a racemate, an undefined record), so the measured "
        "outcomes belong to that form",
    )
    neighbours: list[TestedNeighbour] = Field(default_factory=list, description="most similar first")
    measured: str | None = Field(
        None,
        description="for a training compound, what Tox21 measured for it, in one line",
        examples=["measured in Tox21 (TOX6): active in none (inactive 12, not tested 0)"],
    )
    note: str = READ_ACROSS_NOTE


class Tox21Record(BaseModel):
    """Tox21's own record of a compound the model refuses, matched by the whole input's InChIKey."""

    inchikey: str = Field(examples=["LXZZYRPGZAFOLE-UHFFFAOYSA-L"])
    tox21_ids: list[str] = Field(examples=[["TOX4983"]])
    smiles: str = Field(description="as Tox21 recorded it (first row)")
    measured: dict[str, Outcome] = Field(description="what Tox21 measured, per endpoint")
    fact: str = Field(description="the same in one line")


class Prediction(BaseModel):
    """One molecule's answer or its error; a batch never fails as a whole for one bad row."""

    id: str | None = Field(None, description="the caller's compound ID, when the batch gave `ids`")
    prediction_id: str | None = Field(
        None, description="stable id of this answer: send it with the measured result to .../outcomes"
    )
    smiles: str = Field(description="as submitted", examples=["Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1"])
    standardised_smiles: str | None = Field(
        None,
        description="the parent molecule the model scored (salts stripped, neutralised, canonical tautomer)",
    )
    probabilities: dict[str, float] | None = Field(
        None,
        description="calibrated probability of activity per Tox21 endpoint",
        examples=[EXAMPLE_PROBABILITIES],
    )
    applicability_domain: ApplicabilityDomain | None = None
    prediction_sets: dict[str, Literal["active", "inactive", "uncertain", "empty"]] | None = Field(
        None,
        description="Mondrian conformal prediction set per endpoint at `conformal_significance`: 'active' or "
        "'inactive' when only one label is plausible, 'uncertain' when both are, 'empty' when neither "
        "(unlike the training data). From model 2.5.0 calibrated separately in and out of the "
        "applicability domain; from 2.12.0 with smoothed p-values (a per-molecule draw hashed from its "
        "fingerprint, so the same molecule always gets the same set); from 2.13.0 in the domain per "
        "nearest-neighbour similarity band (the card's `conformal.category_edges`). Absent for models "
        "without a conformal calibration set.",
    )
    conformal_significance: float | None = Field(
        None,
        description="error rate per class (2.5.0 on: per class and domain side; 2.13.0 on: per class and "
        "similarity band) the prediction sets are "
        "calibrated to (scaffold CV)",
    )
    overall: OverallCall | None = None
    read_across: ReadAcross | None = None
    explanation: AtomExplanation | None = None
    error_code: str | None = Field(None, examples=[None])
    error: str | None = Field(None, examples=[None])
    tox21_record: Tox21Record | None = Field(
        None,
        description="for a molecule refused as outside the model's chemistry (a metal complex, an inorganic) "
        "that Tox21 tested as such: what Tox21 measured for it",
    )


class PredictRequest(BaseModel):
    smiles: str = Field(max_length=MAX_SMILES_LENGTH, examples=["Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1"])
    explain_endpoint: str | None = Field(
        None,
        description=f"add an atom-level explanation for one endpoint: {', '.join(ENDPOINTS)}",
        examples=["NR-ER"],
    )
    narrative: bool = Field(
        False,
        description="add a plain-language summary written by the configured language model "
        "(HYGEIA_LLM_*); the numbers never wait longer than HYGEIA_LLM_NARRATIVE_TIMEOUT_SECONDS for it",
    )


class Narrative(BaseModel):
    """Generated prose about the numbers above it; it adds no facts and is labelled as generated."""

    status: Literal["ok", "unavailable", "failed", "timeout"]
    text: str | None = Field(None, description="the summary, present when status is ok")
    model: str | None = Field(None, description="the language model that wrote it")
    detail: str | None = Field(None, description="why there is no summary")
    label: str = "written by a language model from the predictions above; check it against them"


class BatchPredictRequest(BaseModel):
    smiles: list[str] = Field(
        min_length=1,
        max_length=MAX_BATCH_ITEMS,
        description="up to 10,000 answered at once; larger batches run as a background job (202)",
        examples=[["CC(=O)Oc1ccccc1C(=O)O", "not a smiles", "Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1"]],
    )
    ids: list[str] | None = Field(
        None,
        description="optional compound IDs, one per SMILES; each result carries its own back",
        examples=[["aspirin", "typo-1", "BPA"]],
    )

    @model_validator(mode="after")
    def _ids_match_smiles(self) -> BatchPredictRequest:
        if self.ids is not None and len(self.ids) != len(self.smiles):
            raise ValueError(f"ids has {len(self.ids)} entries for {len(self.smiles)} SMILES")
        return self


class PredictResponse(BaseModel):
    model: ModelReference
    result: Prediction
    narrative: Narrative | None = None
    notice: str = NOT_SAFETY_EVIDENCE


class BatchPredictResponse(BaseModel):
    model: ModelReference
    results: list[Prediction]
    n_errors: int
    notice: str = NOT_SAFETY_EVIDENCE


class BatchJobAccepted(BaseModel):
    job_id: str
    status: str = Field(examples=["queued"])
    n_items: int
    poll: str = Field(description="GET this for status, progress and, when done, the results")


class ScreenAccepted(BaseModel):
    job_id: str
    status: str = Field(examples=["queued"])
    poll: str = Field(description="GET this for status and progress (chunks scored of all)")
    download: str = Field(description="GET this for the predictions file once the screen has succeeded")


class ModelCardResponse(BaseModel):
    model: ModelReference
    card: dict[str, Any]
    markdown: str | None = Field(None, description="MODEL_CARD.md with every measured metric")
    notice: str = NOT_SAFETY_EVIDENCE


class DomainSide(BaseModel):
    tested: int
    roc_auc: float | None = Field(description="null where this side holds one class only")


class ConformalErrors(BaseModel):
    error_inactive: float | None = Field(description="share of tested inactives whose set misses 'inactive'")
    error_active: float | None = Field(description="share of tested actives whose set misses 'active'")
    single_label: float | None = Field(description="share of sets naming exactly one class")


class EndpointEvaluation(BaseModel):
    tested: int = Field(description="scored compounds with a 0 or 1 label for this endpoint")
    actives: int
    roc_auc: float | None = Field(description="null where the tested compounds hold one class only")
    roc_auc_ci: list[float] | None = Field(
        description="95 % interval (2.5th, 97.5th percentile) over 1,000 bootstrap resamples of the "
        "compounds; null with fewer than 5 actives or 5 inactives, where it would collapse onto the point"
    )
    pr_auc: float | None
    brier: float | None
    in_domain: DomainSide
    out_of_domain: DomainSide
    conformal: ConformalErrors | None = Field(default=None, description="at the response's significance")


class SimilarityBandEvaluation(BaseModel):
    """One band of the card's nearest-neighbour similarity table, on the caller's compounds."""

    band: list[float] = Field(description="[low, high) Tanimoto similarity to the nearest training compound")
    compounds: int
    labels: int = Field(description="tested (compound, endpoint) pairs in the band")
    roc_auc: float | None = Field(description="mean over endpoints with both classes in the band")
    cv_roc_auc: float | None = Field(description="the card's scaffold-CV value for the band, to compare")
    brier: float | None
    conformal_error: float | None = Field(description="share of labels outside their conformal set")


class SubsetEvaluation(BaseModel):
    records: int
    endpoints: dict[str, EndpointEvaluation]
    mean_roc_auc: float | None = Field(
        description="over endpoints with both classes: the challenge's measure"
    )
    mean_roc_auc_ci: list[float] | None = Field(description="95 % bootstrap interval, as the endpoints'")
    mean_pr_auc: float | None
    endpoints_in_mean: int
    by_similarity: list[SimilarityBandEvaluation] = Field(
        description="does distance from the training set predict error here, as the card says it does?"
    )


class EvaluationResponse(BaseModel):
    """The production model measured on the caller's labelled compounds (`hygeia toxicity evaluate`)."""

    model: ModelReference
    records: int
    scored: int
    refused: dict[str, int] = Field(description="records the model could not score, by reason")
    refused_with_labels: int
    likely_in_training: int = Field(
        description="scored records whose nearest training compound has similarity 1.0: most likely in "
        "Tox21 already, so `all` flatters the model and `novel` leaves them out"
    )
    significance: float = Field(description="ε of the conformal sets")
    novel: SubsetEvaluation
    all: SubsetEvaluation
