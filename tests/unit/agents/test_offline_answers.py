"""The no-language-model answer's parts: sentence choice, verdict features, facts, confidence, scoring."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from benchmarks.agents.pubmedqa import macro_f1, scores

from hygeia.agents import confidence, verdict
from hygeia.agents.encoder import split_sentences
from hygeia.agents.extract import Sentence, coverage, is_yes_no, key_terms, rank_sentences, select
from hygeia.agents.facts import fact_line
from hygeia.core.registry import ModelIntegrityError

LIVER = (
    "Acetaminophen overdose is the leading cause of acute liver failure. Hepatotoxicity follows depletion "
    "of glutathione by NAPQI. Patients were recruited in 2010."
)
WEATHER = "Rainfall in the region was measured daily. The average temperature was 12 degrees. Winds were low."


def test_sentences_split_on_sentence_ends_only():
    text = "We saw e.g. no effect (p < 0.05). Results were similar. 12 patients died."
    assert split_sentences(text) == [
        "We saw e.g. no effect (p < 0.05).",
        "Results were similar.",
        "12 patients died.",
    ]


def test_key_terms_and_coverage_ignore_question_words_and_accept_plurals():
    terms = key_terms("Is acetaminophen hepatotoxic in patients?")
    assert terms == {"acetaminophen", "hepatotoxic"}
    assert coverage(terms, "Acetaminophen is hepatotoxicity-prone") == 1.0  # 5-letter stem "hepat"
    assert coverage(terms, "Rainfall was measured") == 0.0
    assert is_yes_no("Does X cause Y?") and not is_yes_no("What causes Y?") and not is_yes_no("Is it A or B?")


def test_relevant_sentences_outrank_unrelated_ones():
    ranked = rank_sentences("Is acetaminophen hepatotoxic?", [(1, WEATHER), (2, LIVER)])
    assert ranked.method == "MiniLM cosine"
    assert ranked.sentences[0].source == 2 and "liver" in ranked.sentences[0].text.lower()
    chosen = select(ranked)
    assert 3 <= len(chosen) <= 5 and chosen[0].relevance >= chosen[-1].relevance


def test_confidence_separates_answering_from_unrelated_evidence():
    question = "Is acetaminophen hepatotoxic?"
    answered = confidence.view_evidence(question, [(1, LIVER)], tool_answered=False)
    unrelated = confidence.view_evidence(question, [(1, WEATHER)], tool_answered=False)
    assert answered.confidence["value"] > unrelated.confidence["value"] + 0.3
    assert unrelated.confidence["label"] == "low — not answered" and unrelated.not_answered
    with_tool = confidence.view_evidence(question, [(1, WEATHER)], tool_answered=True)
    assert with_tool.confidence["label"] != "low — not answered"
    assert with_tool.confidence["value"] == pytest.approx(
        1 - (1 - unrelated.confidence["value"]) * 0.5, abs=2e-3
    )
    assert answered.verdict is not None and set(answered.verdict["probabilities"]) == {"yes", "no", "maybe"}


def test_significance_reads_p_values_and_intervals():
    significant, not_significant, share, crossing, not_crossing = verdict.significance(
        "OR 1.2 (95% CI 0.8-1.9), p = 0.32; mortality fell (p<0.001); the change was not significant"
    )
    assert (significant, not_significant, crossing, not_crossing) == (1, 2, 1, 0)
    assert share == pytest.approx(2 / 5)


def test_verdict_features_react_to_null_findings():
    q = np.zeros(384, dtype=np.float32)
    q[0] = 1
    vectors = np.tile(q, (2, 1))
    model = verdict.load()
    assert model is not None
    positive = model.inputs("Does X reduce Y?", q, ["X significantly reduced Y (p<0.01).", "Done."], vectors)
    null = model.inputs(
        "Does X reduce Y?", q, ["There was no significant difference (p=0.4).", "Done."], vectors
    )
    assert positive.shape == null.shape == model.mean.shape
    assert model.probabilities(positive)["yes"] > model.probabilities(null)["yes"]


def test_a_modified_verdict_file_is_refused(tmp_path, monkeypatch):
    folder = verdict.verdict_folder()
    assert folder is not None
    copy = tmp_path / "agents" / folder.name
    shutil.copytree(folder, copy)
    data = json.loads((copy / verdict.WEIGHTS_FILE).read_text())
    data["intercept"][0] += 1.0
    (copy / verdict.WEIGHTS_FILE).write_text(json.dumps(data))
    monkeypatch.setattr(verdict, "verdict_folder", lambda: copy)
    with pytest.raises(ModelIntegrityError):
        verdict.artifact(verdict.WEIGHTS_FILE)


def test_fact_lines_for_known_and_unknown_outputs():
    assert fact_line("x", {"fact": "EB05 4.9 for a-b"}) == "EB05 4.9 for a-b"
    tox = {
        "results": [
            {"probabilities": {"SR-MMP": 0.81, "NR-AR": 0.1}, "applicability_domain": {"in_domain": False}}
        ]
    }
    expected = (
        "highest Tox21 probabilities: SR-MMP 0.81, NR-AR 0.10 (outside the model's applicability domain)"
    )
    assert fact_line("toxicity.predict", tox) == f"toxicity model, {expected}"
    tox["results"][0]["overall"] = {"active_assays": ["SR-MMP"], "rule": "probability >= 0.5"}
    called = f"toxicity model, {expected}; predicted active (probability >= 0.5): SR-MMP"
    assert fact_line("toxicity.predict", tox) == called
    tox["results"][0]["applicability_domain"] = {"in_domain": True, "cv_roc_auc": 0.8839}
    graded = "(inside the model's applicability domain, CV ROC-AUC 0.88 at this similarity)"
    assert graded in fact_line("toxicity.predict", tox)
    assert fact_line("calc", {"mass": 46.0684, "model": "m"}) == "calc: mass 46.1"


def test_scores_and_macro_f1_on_a_hand_checked_example():
    gold = ["yes", "yes", "no", "maybe"]
    predicted = ["yes", "no", "no", "unparsed"]
    result = scores(gold, predicted, resamples=50)
    assert result["accuracy"] == 0.5 and result["predicted_counts"]["unparsed"] == 1
    # F1: yes 2*1/(1+2)=0.667, no 2*1/(2+1)=0.667, maybe 0 -> 0.444
    assert result["macro_f1"] == pytest.approx(0.4444, abs=1e-4)
    assert macro_f1(np.array([0, 1]), np.array([0, 1])) == pytest.approx(2 / 3)  # maybe absent: F1 0
    assert result["accuracy_ci95"][0] <= 0.5 <= result["accuracy_ci95"][1]


def test_focus_component_counts_the_best_sources_share():
    chosen = [Sentence("a", 1, 0, 0.9), Sentence("b", 2, 0, 0.5), Sentence("c", 1, 1, 0.4)]
    values = confidence.components("alpha beta", chosen)
    assert values["focus"] == pytest.approx(2 / 3) and values["relevance"] == 0.9


def test_coverage_counts_the_questions_terms_within_the_best_source_only():
    """Sentences of two sources that each name one term (a drug's indication record, another drug's
    trial in the disease) do not cover the question together."""
    question = "Is pioglitazone associated with bladder cancer?"
    scattered = [Sentence("Pioglitazone for type 2 diabetes: approved.", 1, 0, 0.7),
                 Sentence("Cisplatin for invasive bladder cancer: withdrawn.", 2, 0, 0.6)]  # fmt: skip
    together = [Sentence("Pioglitazone was associated with bladder cancer.", 1, 0, 0.7), scattered[1]]
    assert confidence.components(question, scattered)["coverage"] == 0.25  # pioglitazone alone
    assert confidence.components(question, together)["coverage"] == 1.0


def test_the_json_lexical_model_reads_text_exactly_as_scikit_learn_does():
    """The verdict's TF-IDF + logistic part is re-implemented for a JSON file (no pickle); it must give
    scikit-learn's log-probabilities, also for text with unseen and repeated words."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from hygeia.agents.verdict import LexicalModel

    texts = [
        "No significant difference was found between groups.",
        "Mortality was significantly reduced with treatment (p < 0.01).",
        "The association may be limited; further studies are needed.",
        "Treatment did not improve survival and no difference was found.",
        "Outcomes improved significantly in the treated group.",
        "Results were unclear and may depend on the dose.",
    ] * 2
    labels = np.array([1, 0, 2, 1, 0, 2] * 2)
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    fitted = LogisticRegression(C=3.0, max_iter=5000).fit(vectorizer.fit_transform(texts), labels)
    vocabulary = {str(term): int(k) for term, k in vectorizer.vocabulary_.items()}
    model = LexicalModel.from_json(
        LexicalModel(vocabulary, vectorizer.idf_, fitted.coef_, fitted.intercept_).to_json()
    )
    unseen = ["Survival did not differ, no no significant difference; zebra.", "Quite unrelated words."]
    expected = fitted.predict_log_proba(vectorizer.transform(unseen))
    assert np.allclose([model.log_probabilities(t) for t in unseen], expected, atol=1e-5)


def test_the_previous_verdict_stays_loadable_for_rollback_and_the_newest_is_served():
    folder = verdict.verdict_folder()
    assert folder is not None and folder.name == verdict.VERSION
    previous = verdict.VerdictModel.from_json(
        json.loads((folder.parent / "1.0.0" / verdict.WEIGHTS_FILE).read_text())
    )
    assert previous.lexical is None  # 1.0.0 had the cues only
    sentences = ["Mortality did not differ between groups (p = 0.40).", "No significant benefit was found."]
    vectors = np.eye(2, 8, dtype=np.float32)
    p = previous.predict(
        "Does treatment reduce mortality?", np.ones(8, np.float32) / 8**0.5, sentences, vectors
    )
    assert set(p) == set(verdict.CLASSES) and abs(sum(p.values()) - 1) < 1e-9
    assert verdict.VerdictModel.from_json(previous.to_json()).to_json() == previous.to_json()
